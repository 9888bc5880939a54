package org.streamdl.dnn.quantize;

import java.util.List;
import java.util.Locale;
import org.streamdl.dnn.data.Dataset;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.train.Evaluation;
import org.streamdl.tensor.Checks;

/**
 * What quantizing (or converting to bfloat16) did: each converted layer's scales, accuracy on a
 * held-out set before and after, and the measured speed-up of scoring that set. Both models score
 * the set once untimed (warm-up: plans, weight packing, JIT) and once timed.
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
        Evaluation.accuracy(float32, heldOut, batchSize);
        Evaluation.accuracy(converted, heldOut, batchSize);
        long start = System.nanoTime();
        double before = Evaluation.accuracy(float32, heldOut, batchSize);
        long middle = System.nanoTime();
        double after = Evaluation.accuracy(converted, heldOut, batchSize);
        long end = System.nanoTime();
        return new QuantizationReport(precision, List.copyOf(layers), heldOut.size(), before, after,
                heldOut.size() / ((middle - start) / 1e9), heldOut.size() / ((end - middle) / 1e9));
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
        sb.append(String.format(Locale.ROOT, "  scoring float32 %.0f samples/s, %s %.0f samples/s: speed-up %.2fx%n",
                float32ImagesPerSecond, precision, imagesPerSecond, speedup()));
        return sb.toString();
    }
}
