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

    static String version() {
        return OrtEnvironment.getEnvironment().getVersion();
    }

    /**
     * A session on one of the benchmark models (intra-op threads as given, one inter-op thread, all
     * graph optimizations) with a random input made before any timing; {@link #call} runs it once.
     */
    static final class Session implements AutoCloseable {
        private final OrtSession session;
        private final OnnxTensor input;

        private Session(OrtSession session, OnnxTensor input) {
            this.session = session;
            this.input = input;
        }

        static Session open(String file, long[] inputShape, int threads) throws IOException {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                so.setIntraOpNumThreads(threads);
                so.setInterOpNumThreads(1);
                so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                OrtSession session = env.createSession(model(file), so);
                try {
                    return new Session(session, OnnxTensor.createTensor(env, random((int) Arrays.stream(inputShape)
                            .reduce(1, Math::multiplyExact)), inputShape));
                } catch (OrtException e) {
                    session.close();
                    throw e;
                }
            } catch (OrtException e) {
                throw new IOException("ONNX Runtime failed on " + file + ": " + e.getMessage(), e);
            }
        }

        BatchProtocol.Call call() {
            return () -> run(session, input);
        }

        @Override
        public void close() throws OrtException {
            input.close();
            session.close();
        }
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
