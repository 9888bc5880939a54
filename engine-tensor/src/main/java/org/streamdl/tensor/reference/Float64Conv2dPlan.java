package org.streamdl.tensor.reference;

import java.nio.DoubleBuffer;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.Conv2dSpec;

/**
 * Float64 convolution by the definition (direct loops over output, channel and kernel tap), with
 * its two gradients: the oracle for gradient checks.
 */
final class Float64Conv2dPlan implements Conv2dPlan {
    private final Conv2dSpec spec;
    private final int n;
    private final int c;
    private final int h;
    private final int w;
    private final int o;
    private final int oh;
    private final int ow;
    private final int kh;
    private final int kw;
    private final int groupIn;
    private final int groupOut;

    Float64Conv2dPlan(Conv2dSpec spec) {
        this.spec = spec;
        n = (int) spec.batchSize();
        c = (int) spec.inChannels();
        h = (int) spec.inputShape().dim(2);
        w = (int) spec.inputShape().dim(3);
        o = (int) spec.outChannels();
        oh = (int) spec.outH();
        ow = (int) spec.outW();
        kh = (int) spec.kernelH();
        kw = (int) spec.kernelW();
        groupIn = (int) (c / spec.groups());
        groupOut = (int) (o / spec.groups());
    }

    @Override
    public Conv2dSpec spec() {
        return spec;
    }

    /** Calls {@code tap} for every (input element, weight element, output element) that meet. */
    private interface Tap {
        void at(int xi, int wi, int yi);
    }

    private void forEachTap(Tap tap) {
        for (int b = 0; b < n; b++) {
            for (int oc = 0; oc < o; oc++) {
                int g = oc / groupOut;
                for (int y = 0; y < oh; y++) {
                    for (int x = 0; x < ow; x++) {
                        int yi = ((b * o + oc) * oh + y) * ow + x;
                        for (int ic = 0; ic < groupIn; ic++) {
                            int channel = g * groupIn + ic;
                            for (int ky = 0; ky < kh; ky++) {
                                int iy = (int) (y * spec.strideH() - spec.padH() + ky * spec.dilationH());
                                if (iy < 0 || iy >= h) {
                                    continue;
                                }
                                for (int kx = 0; kx < kw; kx++) {
                                    int ix = (int) (x * spec.strideW() - spec.padW() + kx * spec.dilationW());
                                    if (ix >= 0 && ix < w) {
                                        tap.at(((b * c + channel) * h + iy) * w + ix, ((oc * groupIn + ic) * kh + ky) * kw + kx, yi);
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    @Override
    public void forward(Tensor x, Tensor weights, Tensor bias, Tensor y) {
        Conv2dPlan.check(spec, "x", spec.inputShape(), x);
        Conv2dPlan.check(spec, "w", spec.weightShape(), weights);
        Conv2dPlan.check(spec, "y", spec.outputShape(), y);
        DoubleBuffer in = view(x);
        DoubleBuffer wt = view(weights);
        DoubleBuffer out = view(y);
        double[] acc = new double[(int) spec.outputShape().elementCount()];
        forEachTap((xi, wi, yi) -> acc[yi] += in.get(xi) * wt.get(wi));
        DoubleBuffer b = spec.hasBias() ? view(bias) : null;
        for (int i = 0; i < acc.length; i++) {
            double v = acc[i] + (b == null ? 0 : b.get(i / (oh * ow) % o));
            out.put(i, spec.relu() && v < 0 ? 0 : v);
        }
    }

    @Override
    public void backwardData(Tensor dy, Tensor weights, Tensor dx) {
        Conv2dPlan.check(spec, "dy", spec.outputShape(), dy);
        Conv2dPlan.check(spec, "w", spec.weightShape(), weights);
        Conv2dPlan.check(spec, "dx", spec.inputShape(), dx);
        DoubleBuffer g = view(dy);
        DoubleBuffer wt = view(weights);
        double[] acc = new double[(int) spec.inputShape().elementCount()];
        forEachTap((xi, wi, yi) -> acc[xi] += g.get(yi) * wt.get(wi));
        view(dx).put(acc);
    }

    @Override
    public void backwardWeights(Tensor x, Tensor dy, Tensor dw, Tensor db) {
        Conv2dPlan.check(spec, "x", spec.inputShape(), x);
        Conv2dPlan.check(spec, "dy", spec.outputShape(), dy);
        Conv2dPlan.check(spec, "dw", spec.weightShape(), dw);
        DoubleBuffer in = view(x);
        DoubleBuffer g = view(dy);
        double[] acc = new double[(int) spec.weightShape().elementCount()];
        forEachTap((xi, wi, yi) -> acc[wi] += in.get(xi) * g.get(yi));
        view(dw).put(acc);
        if (db != null) {
            double[] sums = new double[o];
            for (int i = 0; i < spec.outputShape().elementCount(); i++) {
                sums[i / (oh * ow) % o] += g.get(i);
            }
            view(db).put(sums);
        }
    }

    /** The tensor's elements from its offset on (operands are contiguous). */
    static DoubleBuffer view(Tensor t) {
        return t.buffer().asDoubleBuffer().position((int) t.offset()).slice();
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
        return "float64 reference " + spec;
    }
}
