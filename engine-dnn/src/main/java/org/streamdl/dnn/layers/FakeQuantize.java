package org.streamdl.dnn.layers;

import org.streamdl.dnn.Context;
import org.streamdl.dnn.Values;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;

/**
 * Quantize then dequantize with one scale and zero point, as an ONNX QuantizeLinear /
 * DequantizeLinear pair does: y = (clamp(round(x / scale) + zeroPoint, qmin, qmax) − zeroPoint) ·
 * scale, rounding half to even and dividing in the input's precision. Backward is the
 * straight-through estimator: the gradient passes where x was inside the representable range.
 */
public final class FakeQuantize implements Layer {
    private final String name;
    private final double scale;
    private final long zeroPoint;
    private final long qmin;
    private final long qmax;
    private Tensor input;

    public FakeQuantize(String name, double scale, long zeroPoint, long qmin, long qmax) {
        Checks.argument(scale > 0 && Double.isFinite(scale), "%s: scale must be finite and > 0 but is %s", name, scale);
        Checks.argument(qmin <= zeroPoint && zeroPoint <= qmax, "%s: zero point %s is outside [%s, %s]", name, zeroPoint, qmin, qmax);
        this.name = name;
        this.scale = scale;
        this.zeroPoint = zeroPoint;
        this.qmin = qmin;
        this.qmax = qmax;
    }

    /** uint8 codes [0, 255]. */
    public static FakeQuantize uint8(String name, double scale, long zeroPoint) {
        return new FakeQuantize(name, scale, zeroPoint, 0, 255);
    }

    /** int8 codes [-128, 127]. */
    public static FakeQuantize int8(String name, double scale, long zeroPoint) {
        return new FakeQuantize(name, scale, zeroPoint, -128, 127);
    }

    public double scale() {
        return scale;
    }

    public long zeroPoint() {
        return zeroPoint;
    }

    /** uint8 for codes [0, 255], int8 for [-128, 127], null for other ranges. */
    public org.streamdl.tensor.DType codes() {
        if (qmin == 0 && qmax == 255) {
            return org.streamdl.tensor.DType.UINT8;
        }
        return qmin == -128 && qmax == 127 ? org.streamdl.tensor.DType.INT8 : null;
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        Values.checkFloating(this, x);
        input = x.contiguous(ctx.step());
        Tensor y = ctx.step().allocateUninitialized(x.dtype(), x.shape());
        Values in = Values.of(input);
        Values out = Values.of(y);
        boolean single = x.dtype() == org.streamdl.tensor.DType.FLOAT32;
        for (int i = 0; i < in.size(); i++) {
            double ratio = in.get(i) / scale;
            long q = (long) Math.rint(single ? (float) ratio : ratio) + zeroPoint;
            out.set(i, (Math.min(qmax, Math.max(qmin, q)) - zeroPoint) * scale);
        }
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Checks.state(input != null, "%s: backward before forward", this);
        Tensor g = dy.contiguous(ctx.step());
        Tensor dx = ctx.step().allocateUninitialized(g.dtype(), g.shape());
        Values in = Values.of(input);
        Values gv = Values.of(g);
        Values out = Values.of(dx);
        double low = (qmin - zeroPoint) * scale;
        double high = (qmax - zeroPoint) * scale;
        for (int i = 0; i < in.size(); i++) {
            double v = in.get(i);
            out.set(i, v >= low && v <= high ? gv.get(i) : 0);
        }
        return dx;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("FakeQuantize", name, "scale", scale, "zeroPoint", zeroPoint, "qmin", qmin, "qmax", qmax);
    }

    @Override
    public String toString() {
        return name + " (FakeQuantize scale " + scale + " zero point " + zeroPoint + " [" + qmin + ", " + qmax + "])";
    }
}
