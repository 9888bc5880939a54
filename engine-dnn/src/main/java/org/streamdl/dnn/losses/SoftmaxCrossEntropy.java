package org.streamdl.dnn.losses;

import java.nio.ByteBuffer;
import org.streamdl.dnn.Values;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;

/**
 * Softmax and cross-entropy in one numerically stable step (log-sum-exp with the row maximum
 * subtracted), as PyTorch's {@code cross_entropy}: logits (N, C) and int32 class indices (N) →
 * mean loss. With label smoothing ε the target is (1 − ε) on the class plus ε/C everywhere
 * (Szegedy et al., 2016). The gradient is (softmax − target) / N.
 */
public final class SoftmaxCrossEntropy implements Loss {
    private final double labelSmoothing;
    private Tensor probabilities;
    private int[] labels;

    public SoftmaxCrossEntropy() {
        this(0);
    }

    public SoftmaxCrossEntropy(double labelSmoothing) {
        Checks.argument(labelSmoothing >= 0 && labelSmoothing < 1,
                "labelSmoothing must be in [0, 1) but was %s", labelSmoothing);
        this.labelSmoothing = labelSmoothing;
    }

    @Override
    public double forward(Tensor logits, Tensor targets, Allocator step) {
        Checks.argument(logits.rank() == 2 && (logits.dtype() == DType.FLOAT32 || logits.dtype() == DType.FLOAT64),
                "cross-entropy: expected float32 or float64 logits (N, C) but got %s %s", logits.dtype(), logits.shape());
        int n = (int) logits.shape().dim(0);
        int c = (int) logits.shape().dim(1);
        Checks.argument(targets.rank() == 1 && targets.shape().dim(0) == n && targets.dtype() == DType.INT32,
                "cross-entropy: expected int32 labels (%s) but got %s %s", n, targets.dtype(), targets.shape());
        Tensor x = logits.contiguous(step);
        Values in = Values.of(x);
        probabilities = step.allocateUninitialized(logits.dtype(), logits.shape());
        Values p = Values.of(probabilities);
        labels = new int[n];
        ByteBuffer t = targets.contiguous(step).buffer();
        double total = 0;
        for (int i = 0; i < n; i++) {
            int label = t.getInt((int) (targets.offset() + i) * 4);
            Checks.argument(label >= 0 && label < c, "cross-entropy: label %s of row %s is outside [0, %s)", label, i, c);
            labels[i] = label;
            int row = i * c;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < c; j++) {
                max = Math.max(max, in.get(row + j));
            }
            double sum = 0;
            for (int j = 0; j < c; j++) {
                sum += Math.exp(in.get(row + j) - max);
            }
            double logSum = Math.log(sum) + max;
            double rowLoss = logSum - in.get(row + label);
            if (labelSmoothing > 0) {
                double meanLogit = 0;
                for (int j = 0; j < c; j++) {
                    meanLogit += in.get(row + j);
                }
                meanLogit /= c;
                rowLoss = (1 - labelSmoothing) * rowLoss + labelSmoothing * (logSum - meanLogit);
            }
            total += rowLoss;
            for (int j = 0; j < c; j++) {
                p.set(i * c + j, Math.exp(in.get(row + j) - logSum));
            }
        }
        return n == 0 ? 0 : total / n;
    }

    @Override
    public Tensor gradient(Allocator step) {
        Checks.state(probabilities != null, "cross-entropy: gradient before forward");
        int n = labels.length;
        int c = (int) probabilities.shape().dim(1);
        Tensor grad = step.allocateUninitialized(probabilities.dtype(), probabilities.shape());
        Values p = Values.of(probabilities);
        Values g = Values.of(grad);
        double scale = 1.0 / n;
        double smooth = labelSmoothing / c;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < c; j++) {
                double target = (j == labels[i] ? 1 - labelSmoothing : 0) + smooth;
                g.set(i * c + j, (p.get(i * c + j) - target) * scale);
            }
        }
        return grad;
    }
}
