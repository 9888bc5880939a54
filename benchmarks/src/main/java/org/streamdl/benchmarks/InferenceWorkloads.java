package org.streamdl.benchmarks;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.data.InMemoryDataset;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.onnx.OnnxFormatException;
import org.streamdl.dnn.onnx.OnnxImporter;
import org.streamdl.dnn.onnx.OnnxReader;
import org.streamdl.dnn.quantize.QuantizationReport;
import org.streamdl.dnn.quantize.Quantizer;
import org.streamdl.dnn.train.Evaluation;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.RandomFill;

/**
 * I1: LeNet-5 inference latency at batch 1 and throughput at batch 256, in fp32 and in int8 (the
 * same model after post-training static quantization), with both test accuracies.
 */
final class InferenceWorkloads {
    private InferenceWorkloads() {}

    /**
     * I1 runs its whole protocol twice on throwaway copies of the model before the measured run: the
     * 200 and 5 warm-up calls leave much of the engine's Java side to the interpreter, which is HotSpot
     * warming up, not StreamDL (as L1 warms up before it times). The first rehearsal's figures are
     * reported too, as {@code cold_*}: they are what a freshly started JVM gives.
     */
    static final int REHEARSALS = 2;

    static Map<String, Object> lenet5(WorkloadRunner.Options options) throws java.io.IOException {
        Path data = Path.of(options.data());
        InMemoryDataset train = InMemoryDataset.fashionMnist(data, "train");
        Map<String, Object> cold = measure(options, train);
        for (int i = 1; i < REHEARSALS; i++) {
            measure(options, train);
        }
        Map<String, Object> figures = measure(options, train);
        for (String key : List.of("b1_latency_us_p50", "b1_latency_us_p99", "b256_img_s", "int8_b1_latency_us_p50",
                "int8_b1_latency_us_p99", "int8_b256_img_s")) {
            figures.put("cold_" + key, cold.get(key));
        }
        figures.put("jit_rehearsals", REHEARSALS);
        InMemoryDataset test = InMemoryDataset.fashionMnist(data, "t10k");
        try (Model fp32 = importLenet5(options.threads());
             Quantizer.Quantized q = quantize(fp32, train, options.threads())) {
            figures.put("fp32_test_acc", WorkloadRunner.round(Evaluation.accuracy(fp32, test, 1000), 4));
            figures.put("int8_test_acc", WorkloadRunner.round(Evaluation.accuracy(q.model(), test, 1000), 4));
            System.err.print(QuantizationReport.measure("int8", fp32, q.model(), q.layers(), test, 1000).format());
        }
        return figures;
    }

    /** The fp32 protocol, then the same on the model quantized to int8 (keys prefixed {@code int8_}). */
    private static Map<String, Object> measure(WorkloadRunner.Options options, InMemoryDataset train) throws java.io.IOException {
        Map<String, Object> figures = new LinkedHashMap<>();
        // The trained model ONNX Runtime runs too, imported from the same file.
        try (Model model = importLenet5(options.threads());
             Allocator inputs = Allocator.root("I1-inputs", 64L << 20)) {
            figures.put("backend", model.kernels().backendName());
            figures.put("weights", "trained (lenet5.onnx)");
            Tensor one = inputs.allocate(DType.FLOAT32, 1, 1, 28, 28);
            Tensor batch = inputs.allocate(DType.FLOAT32, 256, 1, 28, 28);
            Rng rng = new Rng(42);
            RandomFill.uniform(one, 0, 1, rng);
            RandomFill.uniform(batch, 0, 1, rng);
            // quantized first, so that calibration's burst of garbage precedes both timed protocols alike
            try (Quantizer.Quantized q = quantize(model, train, options.threads())) {
                protocol(model, one, batch, "", figures);
                protocol(q.model(), one, batch, "int8_", figures);
            }
        }
        figures.put("int8_calibration", "max-abs over " + CALIBRATION_IMAGES + " training images");
        figures.put("batch_protocol", BatchProtocol.DESCRIPTION);
        return figures;
    }

    private static final int CALIBRATION_IMAGES = 1024;

    /** Post-training static quantization calibrated on the first 1024 training images: I2's rule, used by I1 too. */
    static Quantizer.Quantized quantize(Model model, InMemoryDataset train, int threads) {
        try (Allocator calibration = Allocator.root("calibration", 64L << 20)) {
            List<Tensor> batches = new ArrayList<>();
            for (int from = 0; from < CALIBRATION_IMAGES; from += 256) {
                Tensor images = calibration.allocate(DType.FLOAT32, 256, 1, 28, 28);
                Tensor labels = calibration.allocate(DType.INT32, 256);
                int[] indices = java.util.stream.IntStream.range(from, from + 256).toArray();
                train.fill(indices, 0, 256, images, labels);
                batches.add(images);
            }
            return Quantizer.quantize(model, batches, Quantizer.Calibration.MAX_ABS, 100, Kernels.create(threads));
        }
    }

    /** Batch-1 latency (2000 timed calls after 200 warm-up) and batch-256 throughput. */
    private static void protocol(Model model, Tensor one, Tensor batch, String prefix, Map<String, Object> figures) {
        for (int i = 0; i < 200; i++) {
            infer(model, one);
        }
        WorkloadRunner.settleJit();
        long[] latencies = new long[2000];
        for (int i = 0; i < latencies.length; i++) {
            long start = System.nanoTime();
            infer(model, one);
            latencies[i] = System.nanoTime() - start;
        }
        Arrays.sort(latencies);
        figures.put(prefix + "b1_latency_us_p50", WorkloadRunner.round(latencies[latencies.length / 2] / 1e3, 1));
        figures.put(prefix + "b1_latency_us_p99", WorkloadRunner.round(latencies[(int) (latencies.length * 0.99)] / 1e3, 1));
        figures.put(prefix + "b256_img_s", WorkloadRunner.round(batchThroughput(model, batch), 1));
    }

    /** LeNet-5 with the trained weights of the reference lenet5.onnx, on StreamDL's kernels. */
    static Model importLenet5(int threads) throws java.io.IOException {
        try {
            return OnnxImporter.importModel(OnnxReader.read(OnnxRuntimeBaseline.model("lenet5.onnx"), "lenet5.onnx"),
                    "lenet5.onnx", Kernels.create(threads));
        } catch (OnnxFormatException e) {
            throw new java.io.IOException(e.getMessage(), e);
        }
    }

    /** Images/s by the workloads' batch protocol ({@link BatchProtocol}). */
    static double batchThroughput(Model model, Tensor batch) {
        try {
            return BatchProtocol.imagesPerSecond(() -> infer(model, batch), batch.shape().dim(0));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static void infer(Model model, Tensor x) {
        try (Allocator step = model.allocator().newChild("inference", 256L << 20)) {
            model.network().forward(x, Context.inference(step, model.kernels()));
        }
    }
}
