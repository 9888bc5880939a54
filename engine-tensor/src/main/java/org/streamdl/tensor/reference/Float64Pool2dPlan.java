package org.streamdl.tensor.reference;

import java.nio.DoubleBuffer;
import java.nio.IntBuffer;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.Pool2dPlan;
import org.streamdl.tensor.spi.Pool2dSpec;

/**
 * Float64 max and average pooling by the definition. Max pooling records each output's winning
 * input index (int32, first maximum wins) in the workspace for backward.
 */
final class Float64Pool2dPlan implements Pool2dPlan {
    private final Pool2dSpec spec;
    private final int planes;
    private final int h;
    private final int w;
    private final int oh;
    private final int ow;

    Float64Pool2dPlan(Pool2dSpec spec) {
        this.spec = spec;
        planes = (int) (spec.inputShape().dim(0) * spec.inputShape().dim(1));
        h = (int) spec.inputShape().dim(2);
        w = (int) spec.inputShape().dim(3);
        oh = (int) spec.outH();
        ow = (int) spec.outW();
    }

    @Override
    public Pool2dSpec spec() {
        return spec;
    }

    @Override
    public long workspaceBytes() {
        return spec.kind() == Pool2dSpec.Kind.MAX ? spec.outputShape().elementCount() * 4 : 0;
    }

    private IntBuffer positions(Tensor workspace) {
        Checks.argument(workspace.dtype() == DType.UINT8 && workspace.elementCount() >= workspaceBytes(),
                "%s: the workspace must be a uint8 tensor of %s bytes but is %s", spec, workspaceBytes(), workspace);
        return workspace.buffer().position((int) workspace.offset()).slice().order(java.nio.ByteOrder.LITTLE_ENDIAN).asIntBuffer();
    }

    @Override
    public void forward(Tensor x, Tensor y, Tensor workspace) {
        Conv2dPlan.check(spec, "x", spec.inputShape(), x);
        Conv2dPlan.check(spec, "y", spec.outputShape(), y);
        DoubleBuffer in = Float64Conv2dPlan.view(x);
        DoubleBuffer out = Float64Conv2dPlan.view(y);
        IntBuffer argmax = workspace == null || workspaceBytes() == 0 ? null : positions(workspace);
        for (int p = 0; p < planes; p++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    double best = Double.NEGATIVE_INFINITY;
                    int bestAt = -1;
                    double sum = 0;
                    int count = 0;
                    for (int ky = 0; ky < spec.kernelH(); ky++) {
                        int iy = (int) (oy * spec.strideH() - spec.padH() + ky);
                        for (int kx = 0; kx < spec.kernelW(); kx++) {
                            int ix = (int) (ox * spec.strideW() - spec.padW() + kx);
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                                continue;
                            }
                            int at = (p * h + iy) * w + ix;
                            double v = in.get(at);
                            if (v > best || bestAt < 0) {
                                best = v;
                                bestAt = at;
                            }
                            sum += v;
                            count++;
                        }
                    }
                    int yi = (p * oh + oy) * ow + ox;
                    if (spec.kind() == Pool2dSpec.Kind.MAX) {
                        out.put(yi, best);
                        if (argmax != null) {
                            argmax.put(yi, bestAt);
                        }
                    } else {
                        out.put(yi, sum / (spec.countIncludePad() ? spec.kernelH() * spec.kernelW() : count));
                    }
                }
            }
        }
    }

    @Override
    public void backward(Tensor dy, Tensor workspace, Tensor dx) {
        Conv2dPlan.check(spec, "dy", spec.outputShape(), dy);
        Conv2dPlan.check(spec, "dx", spec.inputShape(), dx);
        DoubleBuffer g = Float64Conv2dPlan.view(dy);
        double[] acc = new double[(int) spec.inputShape().elementCount()];
        if (spec.kind() == Pool2dSpec.Kind.MAX) {
            Checks.argument(workspace != null, "%s: max pooling backward needs the forward pass's workspace", spec);
            IntBuffer argmax = positions(workspace);
            for (int yi = 0; yi < spec.outputShape().elementCount(); yi++) {
                acc[argmax.get(yi)] += g.get(yi);
            }
        } else {
            for (int p = 0; p < planes; p++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        int count = 0;
                        for (int pass = 0; pass < 2; pass++) {
                            double share = pass == 0 ? 0 : g.get((p * oh + oy) * ow + ox)
                                    / (spec.countIncludePad() ? spec.kernelH() * spec.kernelW() : count);
                            for (int ky = 0; ky < spec.kernelH(); ky++) {
                                int iy = (int) (oy * spec.strideH() - spec.padH() + ky);
                                for (int kx = 0; kx < spec.kernelW(); kx++) {
                                    int ix = (int) (ox * spec.strideW() - spec.padW() + kx);
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                        if (pass == 0) {
                                            count++;
                                        } else {
                                            acc[(p * h + iy) * w + ix] += share;
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        Float64Conv2dPlan.view(dx).put(acc);
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
        return "float64 reference " + spec;
    }
}
