package org.streamdl.dnn.losses;

import org.streamdl.dnn.Values;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;

/**
 * Losses that compare predictions and float targets of the same shape element by element and
 * average over all elements (PyTorch's {@code reduction='mean'}): MSE, L1, SmoothL1 (Huber with
 * β), and binary cross-entropy on logits (stable: max(x, 0) − x·t + log(1 + e^−|x|)).
 */
public final class ElementwiseLoss implements Loss {
    private enum Kind { MSE, L1, SMOOTH_L1, BCE_WITH_LOGITS }

    private final Kind kind;
    private final double beta;
    private double[] predictions;
    private double[] targets;
    private DType dtype;
    private org.streamdl.tensor.Shape shape;

    private ElementwiseLoss(Kind kind, double beta) {
        this.kind = kind;
        this.beta = beta;
    }

    public static ElementwiseLoss mse() {
        return new ElementwiseLoss(Kind.MSE, 0);
    }

    public static ElementwiseLoss l1() {
        return new ElementwiseLoss(Kind.L1, 0);
    }

    /** Quadratic below β, linear above (PyTorch's SmoothL1Loss, default β = 1). */
    public static ElementwiseLoss smoothL1(double beta) {
        Checks.argument(beta > 0, "smoothL1: beta must be > 0 but was %s", beta);
        return new ElementwiseLoss(Kind.SMOOTH_L1, beta);
    }

    /** Sigmoid and binary cross-entropy in one stable step; targets in [0, 1]. */
    public static ElementwiseLoss bceWithLogits() {
        return new ElementwiseLoss(Kind.BCE_WITH_LOGITS, 0);
    }

    @Override
    public double forward(Tensor p, Tensor t, Allocator step) {
        Checks.argument(p.shape().equals(t.shape()), "%s: predictions %s and targets %s differ in shape",
                name(), p.shape(), t.shape());
        Checks.argument(p.dtype() == t.dtype() && (p.dtype() == DType.FLOAT32 || p.dtype() == DType.FLOAT64),
                "%s: expected float32 or float64 predictions and targets of one dtype but got %s and %s",
                name(), p.dtype(), t.dtype());
        predictions = doubles(p, step);
        targets = doubles(t, step);
        dtype = p.dtype();
        shape = p.shape();
        double sum = 0;
        for (int i = 0; i < predictions.length; i++) {
            double x = predictions[i];
            double y = targets[i];
            double d = x - y;
            sum += switch (kind) {
                case MSE -> d * d;
                case L1 -> Math.abs(d);
                case SMOOTH_L1 -> Math.abs(d) < beta ? 0.5 * d * d / beta : Math.abs(d) - 0.5 * beta;
                case BCE_WITH_LOGITS -> Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
            };
        }
        return predictions.length == 0 ? 0 : sum / predictions.length;
    }

    @Override
    public Tensor gradient(Allocator step) {
        Checks.state(predictions != null, "%s: gradient before forward", name());
        Tensor g = step.allocateUninitialized(dtype, shape);
        Values out = Values.of(g);
        double scale = 1.0 / Math.max(predictions.length, 1);
        for (int i = 0; i < predictions.length; i++) {
            double x = predictions[i];
            double d = x - targets[i];
            double v = switch (kind) {
                case MSE -> 2 * d;
                case L1 -> Math.signum(d);
                case SMOOTH_L1 -> Math.abs(d) < beta ? d / beta : Math.signum(d);
                case BCE_WITH_LOGITS -> (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))) - targets[i];
            };
            out.set(i, (v * scale));
        }
        return g;
    }

    private static double[] doubles(Tensor t, Allocator step) {
        double[] values = new double[(int) t.elementCount()];
        Values.of(t.contiguous(step)).get(0, values, values.length);
        return values;
    }

    private String name() {
        return kind.name().toLowerCase(java.util.Locale.ROOT);
    }
}
