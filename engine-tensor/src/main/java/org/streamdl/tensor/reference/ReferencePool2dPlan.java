package org.streamdl.tensor.reference;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.Pool2dPlan;
import org.streamdl.tensor.spi.Pool2dSpec;

/**
 * Max and average pooling. Max pooling's workspace holds, per output, the int32 position of the
 * winning input inside its (H, W) plane; ties go to the first position in row-major window order,
 * and padding never wins.
 */
final class ReferencePool2dPlan implements Pool2dPlan {
    private final Pool2dSpec spec;
    private final int planes;
    private final int h;
    private final int w;
    private final int oh;
    private final int ow;

    ReferencePool2dPlan(Pool2dSpec spec) {
        this.spec = spec;
        this.planes = (int) (spec.inputShape().dim(0) * spec.inputShape().dim(1));
        this.h = (int) spec.inputShape().dim(2);
        this.w = (int) spec.inputShape().dim(3);
        this.oh = (int) spec.outH();
        this.ow = (int) spec.outW();
    }

    @Override
    public Pool2dSpec spec() {
        return spec;
    }

    @Override
    public long workspaceBytes() {
        return spec.kind() == Pool2dSpec.Kind.MAX ? 4L * spec.outputShape().elementCount() : 0;
    }

    @Override
    public void forward(Tensor x, Tensor y, Tensor workspace) {
        Conv2dPlan.check(spec, "x", spec.inputShape(), x);
        Conv2dPlan.check(spec, "y", spec.outputShape(), y);
        ByteBuffer ws = workspace == null ? null : checkedWorkspace(workspace);
        FloatBuffer in = x.buffer().asFloatBuffer();
        FloatBuffer out = y.buffer().asFloatBuffer();
        int kh = (int) spec.kernelH();
        int kw = (int) spec.kernelW();
        int sh = (int) spec.strideH();
        int sw = (int) spec.strideW();
        int ph = (int) spec.padH();
        int pw = (int) spec.padW();
        boolean max = spec.kind() == Pool2dSpec.Kind.MAX;
        for (int plane = 0; plane < planes; plane++) {
            int inBase = (int) x.offset() + plane * h * w;
            int outBase = plane * oh * ow;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    int y0 = oy * sh - ph;
                    int x0 = ox * sw - pw;
                    float best = Float.NEGATIVE_INFINITY;
                    int bestAt = -1;
                    double sum = 0;
                    int count = 0;
                    for (int i = Math.max(y0, 0); i < Math.min(y0 + kh, h); i++) {
                        for (int j = Math.max(x0, 0); j < Math.min(x0 + kw, w); j++) {
                            float v = in.get(inBase + i * w + j);
                            if (bestAt < 0 || v > best || (Float.isNaN(v) && !Float.isNaN(best))) {
                                best = v;
                                bestAt = i * w + j;
                            }
                            sum += v;
                            count++;
                        }
                    }
                    int o = outBase + oy * ow + ox;
                    if (max) {
                        out.put((int) y.offset() + o, best);
                        if (ws != null) {
                            ws.putInt(o * 4, bestAt);
                        }
                    } else {
                        int divisor = spec.countIncludePad()
                                ? (Math.min(y0 + kh, h + ph) - y0) * (Math.min(x0 + kw, w + pw) - x0)
                                : count;
                        out.put((int) y.offset() + o, (float) (sum / divisor));
                    }
                }
            }
        }
    }

    @Override
    public void backward(Tensor dy, Tensor workspace, Tensor dx) {
        Conv2dPlan.check(spec, "dy", spec.outputShape(), dy);
        Conv2dPlan.check(spec, "dx", spec.inputShape(), dx);
        FloatBuffer g = dy.buffer().asFloatBuffer();
        FloatBuffer out = dx.buffer().asFloatBuffer();
        for (int i = 0; i < dx.elementCount(); i++) {
            out.put((int) dx.offset() + i, 0f);
        }
        int kh = (int) spec.kernelH();
        int kw = (int) spec.kernelW();
        int sh = (int) spec.strideH();
        int sw = (int) spec.strideW();
        int ph = (int) spec.padH();
        int pw = (int) spec.padW();
        if (spec.kind() == Pool2dSpec.Kind.MAX) {
            Checks.argument(workspace != null, "%s: backward needs the workspace of the forward pass", spec);
            ByteBuffer ws = checkedWorkspace(workspace);
            for (int plane = 0; plane < planes; plane++) {
                int inBase = (int) dx.offset() + plane * h * w;
                int outBase = plane * oh * ow;
                for (int o = 0; o < oh * ow; o++) {
                    int at = inBase + ws.getInt((outBase + o) * 4);
                    out.put(at, out.get(at) + g.get((int) dy.offset() + outBase + o));
                }
            }
            return;
        }
        for (int plane = 0; plane < planes; plane++) {
            int inBase = (int) dx.offset() + plane * h * w;
            int outBase = plane * oh * ow;
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    int y0 = oy * sh - ph;
                    int x0 = ox * sw - pw;
                    int yEnd = Math.min(y0 + kh, h);
                    int xEnd = Math.min(x0 + kw, w);
                    int divisor = spec.countIncludePad()
                            ? (Math.min(y0 + kh, h + ph) - y0) * (Math.min(x0 + kw, w + pw) - x0)
                            : (yEnd - Math.max(y0, 0)) * (xEnd - Math.max(x0, 0));
                    float share = g.get((int) dy.offset() + outBase + oy * ow + ox) / divisor;
                    for (int i = Math.max(y0, 0); i < yEnd; i++) {
                        for (int j = Math.max(x0, 0); j < xEnd; j++) {
                            out.put(inBase + i * w + j, out.get(inBase + i * w + j) + share);
                        }
                    }
                }
            }
        }
    }

    private ByteBuffer checkedWorkspace(Tensor workspace) {
        Checks.argument(workspace.dtype() == DType.UINT8 && workspace.elementCount() >= workspaceBytes()
                        && workspace.isContiguous(),
                "%s: the workspace must be a contiguous uint8 tensor of %s bytes but is %s", spec, workspaceBytes(), workspace);
        ByteBuffer b = workspace.buffer().duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        return b.position((int) workspace.offset()).slice().order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void close() {
        // nothing native
    }

    @Override
    public String toString() {
        return "reference " + spec;
    }
}
