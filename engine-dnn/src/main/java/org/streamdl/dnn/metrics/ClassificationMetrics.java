package org.streamdl.dnn.metrics;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;

/**
 * Accumulates classification results batch by batch: accuracy, top-k accuracy, mean loss and a
 * confusion matrix (rows: true class, columns: predicted). Scores are logits or probabilities
 * (N, classes), labels int32 (N).
 */
public final class ClassificationMetrics {
    private final int classes;
    private final int topK;
    private final long[][] confusion;
    private long count;
    private long topKHits;
    private double lossSum;
    private long lossSamples;

    public ClassificationMetrics(int classes, int topK) {
        Checks.argument(classes > 1, "need at least 2 classes but got %s", classes);
        Checks.argument(topK >= 1 && topK <= classes, "top-k must be in [1, %s] but was %s", classes, topK);
        this.classes = classes;
        this.topK = topK;
        this.confusion = new long[classes][classes];
    }

    public void update(Tensor scores, Tensor labels) {
        Checks.argument(scores.rank() == 2 && scores.shape().dim(1) == classes && scores.dtype() == DType.FLOAT32,
                "metrics: expected float32 scores (N, %s) but got %s %s", classes, scores.dtype(), scores.shape());
        int n = (int) scores.shape().dim(0);
        Checks.argument(labels.rank() == 1 && labels.shape().dim(0) == n && labels.dtype() == DType.INT32,
                "metrics: expected int32 labels (%s) but got %s %s", n, labels.dtype(), labels.shape());
        Tensor s = scores.isContiguous() ? scores : null;
        float[] values = s == null ? org.streamdl.tensor.ops.Convert.toFloatArray(scores) : null;
        FloatBuffer buffer = s == null ? null : s.buffer().asFloatBuffer();
        int base = s == null ? 0 : (int) s.offset();
        int[] label = org.streamdl.tensor.ops.Convert.toIntArray(labels);
        float[] row = new float[classes];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < classes; j++) {
                row[j] = values != null ? values[i * classes + j] : buffer.get(base + i * classes + j);
            }
            int truth = label[i];
            Checks.argument(truth >= 0 && truth < classes, "metrics: label %s of row %s is outside [0, %s)", truth, i, classes);
            int best = 0;
            int higher = 0;   // scores strictly above the true class's: it is in the top k if fewer than k
            for (int j = 0; j < classes; j++) {
                if (row[j] > row[best]) {
                    best = j;
                }
                if (row[j] > row[truth]) {
                    higher++;
                }
            }
            confusion[truth][best]++;
            if (higher < topK) {
                topKHits++;
            }
            count++;
        }
    }

    /** Adds a batch's mean loss, weighted by its sample count. */
    public void updateLoss(double meanLoss, int samples) {
        lossSum += meanLoss * samples;
        lossSamples += samples;
    }

    public double accuracy() {
        long correct = 0;
        for (int c = 0; c < classes; c++) {
            correct += confusion[c][c];
        }
        return count == 0 ? Double.NaN : (double) correct / count;
    }

    public double topKAccuracy() {
        return count == 0 ? Double.NaN : (double) topKHits / count;
    }

    public double meanLoss() {
        return lossSamples == 0 ? Double.NaN : lossSum / lossSamples;
    }

    public long[][] confusionMatrix() {
        long[][] copy = new long[classes][];
        for (int c = 0; c < classes; c++) {
            copy[c] = Arrays.copyOf(confusion[c], classes);
        }
        return copy;
    }

    public long count() {
        return count;
    }
}
