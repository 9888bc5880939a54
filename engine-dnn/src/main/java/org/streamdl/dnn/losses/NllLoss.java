package org.streamdl.dnn.losses;

import org.streamdl.dnn.Values;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/** Negative log-likelihood on log-probabilities (N, C) (a LogSoftmax output) and int32 classes (N). */
public final class NllLoss implements Loss {
    private int[] labels;
    private org.streamdl.tensor.Shape shape;
    private DType dtype;

    @Override
    public double forward(Tensor logProbabilities, Tensor targets, Allocator step) {
        Checks.argument(logProbabilities.rank() == 2, "nll: expected log-probabilities (N, C) but got %s",
                logProbabilities.shape());
        int n = (int) logProbabilities.shape().dim(0);
        int c = (int) logProbabilities.shape().dim(1);
        Checks.argument(targets.rank() == 1 && targets.shape().dim(0) == n && targets.dtype() == DType.INT32,
                "nll: expected int32 labels (%s) but got %s %s", n, targets.dtype(), targets.shape());
        labels = Convert.toIntArray(targets);
        shape = logProbabilities.shape();
        Values lp = Values.of(logProbabilities.contiguous(step));
        dtype = logProbabilities.dtype();
        double sum = 0;
        for (int i = 0; i < n; i++) {
            Checks.argument(labels[i] >= 0 && labels[i] < c, "nll: label %s of row %s is outside [0, %s)", labels[i], i, c);
            sum -= lp.get(i * c + labels[i]);
        }
        return n == 0 ? 0 : sum / n;
    }

    @Override
    public Tensor gradient(Allocator step) {
        Checks.state(labels != null, "nll: gradient before forward");
        Tensor g = step.allocate(dtype, shape);
        Values out = Values.of(g);
        int c = (int) shape.dim(1);
        for (int i = 0; i < labels.length; i++) {
            out.set(i * c + labels[i], -1.0 / labels.length);
        }
        return g;
    }
}
