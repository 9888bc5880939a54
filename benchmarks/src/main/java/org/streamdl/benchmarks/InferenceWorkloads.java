package org.streamdl.benchmarks;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.onnx.OnnxFormatException;
import org.streamdl.dnn.onnx.OnnxImporter;
import org.streamdl.dnn.onnx.OnnxReader;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.RandomFill;

/** I1: LeNet-5 fp32 inference latency at batch 1 and throughput at batch 256. */
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
        Map<String, Object> cold = measure(options);
        for (int i = 1; i < REHEARSALS; i++) {
            measure(options);
        }
        Map<String, Object> figures = measure(options);
        figures.put("cold_b1_latency_us_p50", cold.get("b1_latency_us_p50"));
        figures.put("cold_b1_latency_us_p99", cold.get("b1_latency_us_p99"));
        figures.put("cold_b256_img_s", cold.get("b256_img_s"));
        figures.put("jit_rehearsals", REHEARSALS);
        return figures;
    }

    private static Map<String, Object> measure(WorkloadRunner.Options options) throws java.io.IOException {
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
            figures.put("b1_latency_us_p50", WorkloadRunner.round(latencies[latencies.length / 2] / 1e3, 1));
            figures.put("b1_latency_us_p99", WorkloadRunner.round(latencies[(int) (latencies.length * 0.99)] / 1e3, 1));
            figures.put("b256_img_s", WorkloadRunner.round(batchThroughput(model, batch), 1));
        }
        return figures;
    }

    private static Model importLenet5(int threads) throws java.io.IOException {
        try {
            return OnnxImporter.importModel(OnnxReader.read(OnnxRuntimeBaseline.model("lenet5.onnx"), "lenet5.onnx"),
                    "lenet5.onnx", Kernels.create(threads));
        } catch (OnnxFormatException e) {
            throw new java.io.IOException(e.getMessage(), e);
        }
    }

    /** Images/s over 50 timed calls after 5 warm-up calls, the workloads' batch protocol. */
    static double batchThroughput(Model model, Tensor batch) {
        for (int i = 0; i < 5; i++) {
            infer(model, batch);
        }
        WorkloadRunner.settleJit();
        long start = System.nanoTime();
        for (int i = 0; i < 50; i++) {
            infer(model, batch);
        }
        return 50 * batch.shape().dim(0) / ((System.nanoTime() - start) / 1e9);
    }

    private static void infer(Model model, Tensor x) {
        try (Allocator step = model.allocator().newChild("inference", 256L << 20)) {
            model.network().forward(x, Context.inference(step, model.kernels()));
        }
    }
}
