package org.streamdl.dnn.quantize;

import java.util.List;
import java.util.Locale;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.data.Dataset;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.train.Evaluation;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;

/**
 * What quantizing (or converting to bfloat16) did: each converted layer's scales, accuracy on a
 * held-out set before and after, and the measured speed-up of inference on that set. The set is
 * run twice, the first pass untimed (plans, weight packing, JIT); each batch is filled once and
 * then run through both models in turn, and only the forward passes are timed, so filling the
 * batches does not dilute the ratio and a slow phase of the machine falls on both models alike.
 *
 * <pre>{@code
 * Quantizer.Quantized q = Quantizer.quantize(model, calibration, Calibration.PERCENTILE, 99.99, kernels);
 * System.err.println(QuantizationReport.measure("int8", model, q.model(), q.layers(), heldOut, 256).format());
 * }</pre>
 */
public record QuantizationReport(String precision, List<Quantizer.LayerReport> layers, int heldOutSize,
                                 double float32Accuracy, double accuracy, double float32ImagesPerSecond,
                                 double imagesPerSecond) {

    public double speedup() {
        return imagesPerSecond / float32ImagesPerSecond;
    }

    /** Accuracy change in percentage points (negative: the converted model is less accurate). */
    public double accuracyChangePoints() {
        return (accuracy - float32Accuracy) * 100;
    }

    public static QuantizationReport measure(String precision, Model float32, Model converted,
                                             List<Quantizer.LayerReport> layers, Dataset heldOut, int batchSize) {
        Checks.argument(heldOut.size() > 0, "the held-out set is empty");
        Checks.argument(batchSize >= 1, "batch size must be >= 1 but was %s", batchSize);
        pass(float32, converted, heldOut, batchSize);
        Pass timed = pass(float32, converted, heldOut, batchSize);
        int n = heldOut.size();
        return new QuantizationReport(precision, List.copyOf(layers), n, (double) timed.float32Correct / n,
                (double) timed.convertedCorrect / n, n / (timed.float32Nanos / 1e9), n / (timed.convertedNanos / 1e9));
    }

    private record Pass(long float32Correct, long convertedCorrect, long float32Nanos, long convertedNanos) {}

    private static Pass pass(Model float32, Model converted, Dataset data, int batchSize) {
        int n = data.size();
        int[] order = java.util.stream.IntStream.range(0, n).toArray();
        long float32Correct = 0;
        long convertedCorrect = 0;
        long float32Nanos = 0;
        long convertedNanos = 0;
        try (Allocator batches = float32.allocator().newChild("quantization-report")) {
            for (int from = 0; from < n; from += batchSize) {
                int count = Math.min(batchSize, n - from);
                try (Allocator step = batches.newChild("batch")) {
                    Tensor x = step.allocate(DType.FLOAT32, data.sampleShape().withBatch(count));
                    Tensor labels = step.allocate(DType.INT32, count);
                    data.fill(order, from, count, x, labels);
                    long start = System.nanoTime();
                    Tensor y = float32.network().forward(x, Context.inference(step, float32.kernels()));
                    long middle = System.nanoTime();
                    Tensor z = converted.network().forward(x, Context.inference(step, converted.kernels()));
                    long end = System.nanoTime();
                    float32Nanos += middle - start;
                    convertedNanos += end - middle;
                    float32Correct += Evaluation.countCorrect(y, labels);
                    convertedCorrect += Evaluation.countCorrect(z, labels);
                }
            }
        }
        return new Pass(float32Correct, convertedCorrect, float32Nanos, convertedNanos);
    }

    /** The report as a person reads it: one line per layer, then accuracy and speed. */
    public String format() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s quantization report (%d held-out samples)%n", precision, heldOutSize));
        for (Quantizer.LayerReport l : layers) {
            sb.append(String.format(Locale.ROOT,
                    "  %-16s input %-7s scale %.3e (range %.4g)  weight scales %.3e..%.3e  output %s%n",
                    l.name(), l.inputType(), l.inputScale(), l.range(), l.weightScaleMin(), l.weightScaleMax(),
                    l.outputType()));
        }
        sb.append(String.format(Locale.ROOT, "  accuracy float32 %.4f, %s %.4f (%+.2f points)%n", float32Accuracy,
                precision, accuracy, accuracyChangePoints()));
        sb.append(String.format(Locale.ROOT, "  inference float32 %.0f samples/s, %s %.0f samples/s: speed-up %.2fx%n",
                float32ImagesPerSecond, precision, imagesPerSecond, speedup()));
        return sb.toString();
    }
}
