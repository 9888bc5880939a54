package org.streamdl.tensor.reference;

import java.nio.FloatBuffer;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.Conv2dSpec;

/**
 * Convolution as im2col followed by GEMM, per image and group: the input patches under every
 * output position become the columns of a (C/groups·KH·KW, OH·OW) matrix, so forward is W·col,
 * backward-data is Wᵀ·dy scattered back (col2im), and backward-weights is dy·colᵀ.
 */
final class ReferenceConv2dPlan implements Conv2dPlan {
    private final Conv2dSpec spec;
    private final GemmKernel gemm = new GemmKernel();
    private final int n;
    private final int c;
    private final int h;
    private final int w;
    private final int oc;
    private final int kh;
    private final int kw;
    private final int oh;
    private final int ow;
    private final int groups;
    private final int cg;       // input channels per group
    private final int ocg;      // output channels per group
    private final int patch;    // rows of col: cg·kh·kw
    private final int positions; // columns of col: oh·ow
    private final float[] col;

    ReferenceConv2dPlan(Conv2dSpec spec) {
        this.spec = spec;
        this.n = (int) spec.batchSize();
        this.c = (int) spec.inChannels();
        this.h = (int) spec.inputShape().dim(2);
        this.w = (int) spec.inputShape().dim(3);
        this.oc = (int) spec.outChannels();
        this.kh = (int) spec.kernelH();
        this.kw = (int) spec.kernelW();
        this.oh = (int) spec.outH();
        this.ow = (int) spec.outW();
        this.groups = (int) spec.groups();
        this.cg = c / groups;
        this.ocg = oc / groups;
        this.patch = cg * kh * kw;
        this.positions = oh * ow;
        this.col = new float[patch * positions];
    }

    @Override
    public Conv2dSpec spec() {
        return spec;
    }

    @Override
    public void forward(Tensor x, Tensor weight, Tensor b, Tensor y) {
        Conv2dPlan.check(spec, "x", spec.inputShape(), x);
        Conv2dPlan.check(spec, "w", spec.weightShape(), weight);
        Conv2dPlan.check(spec, "y", spec.outputShape(), y);
        if (spec.hasBias()) {
            Conv2dPlan.check(spec, "b", spec.biasShape(), b);
        }
        FloatBuffer fx = x.buffer().asFloatBuffer();
        FloatBuffer fw = weight.buffer().asFloatBuffer();
        FloatBuffer fy = y.buffer().asFloatBuffer();
        FloatBuffer fcol = FloatBuffer.wrap(col);
        for (int image = 0; image < n; image++) {
            for (int g = 0; g < groups; g++) {
                im2col(fx, x.offset() + ((long) image * c + (long) g * cg) * h * w);
                gemm.gemm(ocg, positions, patch, 1f,
                        new GemmKernel.Operand(fw, weight.offset() + (long) g * ocg * patch, patch, 1),
                        new GemmKernel.Operand(fcol, 0, positions, 1), 0f,
                        new GemmKernel.Operand(fy, y.offset() + ((long) image * oc + (long) g * ocg) * positions, positions, 1));
            }
            if (spec.hasBias() || spec.relu()) {
                FloatBuffer fb = spec.hasBias() ? b.buffer().asFloatBuffer() : null;
                for (int o = 0; o < oc; o++) {
                    float bias = fb == null ? 0f : fb.get((int) b.offset() + o);
                    int base = (int) (y.offset() + ((long) image * oc + o) * positions);
                    for (int p = 0; p < positions; p++) {
                        float v = fy.get(base + p) + bias;
                        fy.put(base + p, spec.relu() && !(v > 0) && !Float.isNaN(v) ? 0f : v);
                    }
                }
            }
        }
    }

    @Override
    public void backwardData(Tensor dy, Tensor weight, Tensor dx) {
        Conv2dPlan.check(spec, "dy", spec.outputShape(), dy);
        Conv2dPlan.check(spec, "w", spec.weightShape(), weight);
        Conv2dPlan.check(spec, "dx", spec.inputShape(), dx);
        FloatBuffer fdy = dy.buffer().asFloatBuffer();
        FloatBuffer fw = weight.buffer().asFloatBuffer();
        FloatBuffer fdx = dx.buffer().asFloatBuffer();
        FloatBuffer fcol = FloatBuffer.wrap(col);
        for (int i = 0; i < dx.elementCount(); i++) {
            fdx.put((int) dx.offset() + i, 0f);
        }
        for (int image = 0; image < n; image++) {
            for (int g = 0; g < groups; g++) {
                // dcol (patch, positions) = W_gᵀ (patch, ocg) · dy_g (ocg, positions)
                gemm.gemm(patch, positions, ocg, 1f,
                        new GemmKernel.Operand(fw, weight.offset() + (long) g * ocg * patch, 1, patch),
                        new GemmKernel.Operand(fdy, dy.offset() + ((long) image * oc + (long) g * ocg) * positions, positions, 1),
                        0f, new GemmKernel.Operand(fcol, 0, positions, 1));
                col2im(fdx, dx.offset() + ((long) image * c + (long) g * cg) * h * w);
            }
        }
    }

    @Override
    public void backwardWeights(Tensor x, Tensor dy, Tensor dw, Tensor db) {
        Conv2dPlan.check(spec, "x", spec.inputShape(), x);
        Conv2dPlan.check(spec, "dy", spec.outputShape(), dy);
        Conv2dPlan.check(spec, "dw", spec.weightShape(), dw);
        if (spec.hasBias()) {
            Conv2dPlan.check(spec, "db", spec.biasShape(), db);
        }
        FloatBuffer fx = x.buffer().asFloatBuffer();
        FloatBuffer fdy = dy.buffer().asFloatBuffer();
        FloatBuffer fdw = dw.buffer().asFloatBuffer();
        FloatBuffer fcol = FloatBuffer.wrap(col);
        for (int image = 0; image < n; image++) {
            for (int g = 0; g < groups; g++) {
                im2col(fx, x.offset() + ((long) image * c + (long) g * cg) * h * w);
                // dW_g (ocg, patch) (+)= dy_g (ocg, positions) · colᵀ (positions, patch)
                gemm.gemm(ocg, patch, positions, 1f,
                        new GemmKernel.Operand(fdy, dy.offset() + ((long) image * oc + (long) g * ocg) * positions, positions, 1),
                        new GemmKernel.Operand(fcol, 0, 1, positions), image == 0 ? 0f : 1f,
                        new GemmKernel.Operand(fdw, dw.offset() + (long) g * ocg * patch, patch, 1));
            }
        }
        if (n == 0) {
            for (int i = 0; i < dw.elementCount(); i++) {
                fdw.put((int) dw.offset() + i, 0f);
            }
        }
        if (spec.hasBias()) {
            FloatBuffer fdb = db.buffer().asFloatBuffer();
            for (int o = 0; o < oc; o++) {
                double sum = 0;
                for (int image = 0; image < n; image++) {
                    int base = (int) (dy.offset() + ((long) image * oc + o) * positions);
                    for (int p = 0; p < positions; p++) {
                        sum += fdy.get(base + p);
                    }
                }
                fdb.put((int) db.offset() + o, (float) sum);
            }
        }
    }

    /** col[(ci·kh + i)·kw + j, y·ow + x] = input[ci, y·sh − ph + i·dh, x·sw − pw + j·dw], 0 outside. */
    private void im2col(FloatBuffer in, long base) {
        int sh = (int) spec.strideH();
        int sw = (int) spec.strideW();
        int ph = (int) spec.padH();
        int pw = (int) spec.padW();
        int dh = (int) spec.dilationH();
        int dw = (int) spec.dilationW();
        for (int ci = 0; ci < cg; ci++) {
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                    int row = ((ci * kh + i) * kw + j) * positions;
                    for (int y = 0; y < oh; y++) {
                        int iy = y * sh - ph + i * dh;
                        int out = row + y * ow;
                        if (iy < 0 || iy >= h) {
                            java.util.Arrays.fill(col, out, out + ow, 0f);
                            continue;
                        }
                        int inRow = (int) base + (ci * h + iy) * w;
                        for (int x = 0; x < ow; x++) {
                            int ix = x * sw - pw + j * dw;
                            col[out + x] = ix >= 0 && ix < w ? in.get(inRow + ix) : 0f;
                        }
                    }
                }
            }
        }
    }

    /** The adjoint of {@link #im2col}: adds every column entry back onto the input position it came from. */
    private void col2im(FloatBuffer out, long base) {
        int sh = (int) spec.strideH();
        int sw = (int) spec.strideW();
        int ph = (int) spec.padH();
        int pw = (int) spec.padW();
        int dh = (int) spec.dilationH();
        int dw = (int) spec.dilationW();
        for (int ci = 0; ci < cg; ci++) {
            for (int i = 0; i < kh; i++) {
                for (int j = 0; j < kw; j++) {
                    int row = ((ci * kh + i) * kw + j) * positions;
                    for (int y = 0; y < oh; y++) {
                        int iy = y * sh - ph + i * dh;
                        if (iy < 0 || iy >= h) {
                            continue;
                        }
                        int outRow = (int) base + (ci * h + iy) * w;
                        for (int x = 0; x < ow; x++) {
                            int ix = x * sw - pw + j * dw;
                            if (ix >= 0 && ix < w) {
                                out.put(outRow + ix, out.get(outRow + ix) + col[row + y * ow + x]);
                            }
                        }
                    }
                }
            }
        }
    }

    @Override
    public void close() {
        // heap buffers only
    }

    @Override
    public String toString() {
        return "reference " + spec;
    }
}
