package org.streamdl.dnn.train;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.data.Dataset;
import org.streamdl.dnn.model.Model;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/** Classification accuracy of a model over a dataset, in inference mode. */
public final class Evaluation {
    private Evaluation() {}

    public static double accuracy(Model model, Dataset data, int batchSize) {
        int n = data.size();
        if (n == 0) {
            return Double.NaN;
        }
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        long correct = 0;
        try (Allocator batches = model.allocator().newChild("evaluation")) {
            for (int from = 0; from < n; from += batchSize) {
                int count = Math.min(batchSize, n - from);
                try (Allocator step = batches.newChild("evaluation-step")) {
                    Tensor x = step.allocate(DType.FLOAT32, batchShape(count, data.sampleShape()));
                    Tensor y = step.allocate(DType.INT32, count);
                    data.fill(order, from, count, x, y);
                    Tensor logits = model.network().forward(x, Context.inference(step, model.kernels()));
                    correct += countCorrect(logits, y);
                }
            }
        }
        return (double) correct / n;
    }

    /** How many rows of {@code logits} (rows, classes) have their largest value at the row's label. */
    public static long countCorrect(Tensor logits, Tensor labels) {
        int rows = (int) logits.shape().dim(0);
        int classes = (int) logits.shape().dim(1);
        FloatBuffer p = logits.buffer().asFloatBuffer();
        IntBuffer l = labels.buffer().asIntBuffer();
        int base = (int) logits.offset();
        long correct = 0;
        for (int i = 0; i < rows; i++) {
            int best = 0;
            for (int j = 1; j < classes; j++) {
                if (p.get(base + i * classes + j) > p.get(base + i * classes + best)) {
                    best = j;
                }
            }
            if (best == l.get((int) labels.offset() + i)) {
                correct++;
            }
        }
        return correct;
    }

    static Shape batchShape(int count, Shape sample) {
        return sample.withBatch(count);
    }
}
