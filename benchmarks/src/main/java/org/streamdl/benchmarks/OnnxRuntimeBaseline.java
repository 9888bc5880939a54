package org.streamdl.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.streamdl.tensor.Rng;

/**
 * ONNX Runtime Java on the same reference models, timed the same way as StreamDL: the inputs are
 * made before timing and only the session run is timed.
 */
final class OnnxRuntimeBaseline {
    private OnnxRuntimeBaseline() {}

    static byte[] model(String file) throws IOException {
        try (InputStream in = OnnxRuntimeBaseline.class.getResourceAsStream("models/" + file)) {
            if (in == null) {
                throw new IOException("benchmark model " + file + " is missing from the jar");
            }
            return in.readAllBytes();
        }
    }

    /** I1 on lenet5.onnx: batch-1 latency p50/p99 and batch-256 throughput. */
    static Map<String, Object> lenet5(WorkloadRunner.Options options) throws IOException {
        Map<String, Object> figures = new LinkedHashMap<>();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(options.threads());
            so.setInterOpNumThreads(1);
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            try (OrtSession session = env.createSession(model("lenet5.onnx"), so);
                 OnnxTensor one = OnnxTensor.createTensor(env, random(784), new long[] {1, 1, 28, 28});
                 OnnxTensor batch = OnnxTensor.createTensor(env, random(256 * 784), new long[] {256, 1, 28, 28})) {
                figures.put("ort_version", env.getVersion());
                figures.put("weights", "trained");
                for (int i = 0; i < 200; i++) {
                    run(session, one);
                }
                WorkloadRunner.settleJit();
                long[] latencies = new long[2000];
                for (int i = 0; i < latencies.length; i++) {
                    long start = System.nanoTime();
                    run(session, one);
                    latencies[i] = System.nanoTime() - start;
                }
                Arrays.sort(latencies);
                figures.put("b1_latency_us_p50", WorkloadRunner.round(latencies[latencies.length / 2] / 1e3, 1));
                figures.put("b1_latency_us_p99", WorkloadRunner.round(latencies[(int) (latencies.length * 0.99)] / 1e3, 1));
                figures.put("b256_img_s", WorkloadRunner.round(BatchProtocol.imagesPerSecond(() -> run(session, batch), 256), 1));
                figures.put("batch_protocol", BatchProtocol.DESCRIPTION);
            }
        } catch (Exception e) {
            throw new IOException("ONNX Runtime failed: " + e.getMessage(), e);
        }
        return figures;
    }

    /** I2 on mlp.onnx and mlp_int8_qdq.onnx: batch-256 throughput of each, same keys as StreamDL's I2. */
    static Map<String, Object> mlp(WorkloadRunner.Options options) throws IOException {
        Map<String, Object> figures = new LinkedHashMap<>();
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        figures.put("ort_version", env.getVersion());
        figures.put("batch_protocol", BatchProtocol.DESCRIPTION);
        double fp32 = 0;
        for (String file : new String[] {"mlp.onnx", "mlp_int8_qdq.onnx"}) {
            try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                so.setIntraOpNumThreads(options.threads());
                so.setInterOpNumThreads(1);
                so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                try (OrtSession session = env.createSession(model(file), so);
                     OnnxTensor batch = OnnxTensor.createTensor(env, random(256 * 784), new long[] {256, 784})) {
                    double rate = BatchProtocol.imagesPerSecond(() -> run(session, batch), 256);
                    if (file.equals("mlp.onnx")) {
                        fp32 = rate;
                        figures.put("fp32_img_s", WorkloadRunner.round(rate, 1));
                    } else {
                        figures.put("int8_img_s", WorkloadRunner.round(rate, 1));
                        figures.put("int8_speedup", WorkloadRunner.round(rate / fp32, 2));
                    }
                }
            } catch (Exception e) {
                throw new IOException("ONNX Runtime failed on " + file + ": " + e.getMessage(), e);
            }
        }
        return figures;
    }

    private static void run(OrtSession session, OnnxTensor input) throws OrtException {
        try (OrtSession.Result ignored = session.run(Map.of("input", input))) {
            // the output is produced; reading it is not part of the timed work on either side
        }
    }

    private static FloatBuffer random(int n) {
        Rng rng = new Rng(42);
        FloatBuffer b = FloatBuffer.allocate(n);
        for (int i = 0; i < n; i++) {
            b.put(i, rng.nextFloat());
        }
        return b;
    }
}
