package org.streamdl.benchmarks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The workloads' batch protocol (5 warm-up calls, then 50 timed), repeated and summarised by the
 * median run. One run of 50 calls on a 2-core VM lasts 15-50 ms, and a single scheduler hiccup in
 * it moved the figure by up to 40 % between identical runs. Both StreamDL and ONNX Runtime are
 * measured with it, each warmed until HotSpot has compiled what the calls run ({@link
 * #warmUntilCompiled}).
 *
 * <p>Models compared with each other are measured in rounds ({@link #interleaved}): each round runs
 * every model once, in an order that rotates from round to round. This VM has phases lasting
 * seconds in which everything runs up to twice as slow; measured one after the other, fp32 in a
 * fast phase and int8 in a slow one gave ratios from 2.3 to 3.7 for the same build. In rounds, a
 * phase slows every model alike and the medians keep their ratios.
 */
final class BatchProtocol {
    static final int RUNS = 7;
    static final String DESCRIPTION = "warmed at least 1 s and until the JIT is quiet, then the median of " + RUNS
            + " rounds, each running every compared model once (5 warm-up + 50 timed calls) in rotating order";

    /** One inference call; may throw what the system under test throws. */
    interface Call {
        void run() throws Exception;
    }

    static final long MIN_WARM_NANOS = 1_000_000_000L;
    static final long MAX_WARM_NANOS = 10_000_000_000L;

    private BatchProtocol() {}

    /**
     * Calls for at least a second, then until a block of 55 calls passes without HotSpot compiling
     * anything (at most ten seconds). A compilation during a timed run takes one of the two cores
     * from a two-thread kernel: int8 runs swung between 380k and 770k images/s, and C2 compiled the
     * int8 layer's forward only after some 1500 calls, later than a quiet block had suggested.
     */
    static void warmUntilCompiled(Call call) throws Exception {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        boolean monitored = jit != null && jit.isCompilationTimeMonitoringSupported();
        long start = System.nanoTime();
        while (System.nanoTime() - start < MAX_WARM_NANOS) {
            long before = monitored ? jit.getTotalCompilationTime() : 0;
            for (int i = 0; i < 55; i++) {
                call.run();
            }
            boolean quiet = !monitored || jit.getTotalCompilationTime() == before;
            if (quiet && System.nanoTime() - start >= MIN_WARM_NANOS) {
                return;
            }
        }
    }

    /** Images/s of the median run, after {@link #warmUntilCompiled}. */
    static double imagesPerSecond(Call call, long batchSize) throws Exception {
        return interleaved(Map.of("only", call), batchSize).get("only");
    }

    /**
     * Images/s of each call's median run: each is warmed ({@link #warmUntilCompiled}), then {@link
     * #RUNS} rounds run every call once, the first call of round r being the r-th (mod n).
     */
    static Map<String, Double> interleaved(Map<String, Call> calls, long batchSize) throws Exception {
        List<String> names = new ArrayList<>(calls.keySet());
        for (String name : names) {
            warmUntilCompiled(calls.get(name));
        }
        Map<String, double[]> rates = new LinkedHashMap<>();
        names.forEach(n -> rates.put(n, new double[RUNS]));
        for (int r = 0; r < RUNS; r++) {
            for (int k = 0; k < names.size(); k++) {
                String name = names.get((r + k) % names.size());
                Call call = calls.get(name);
                for (int i = 0; i < 5; i++) {
                    call.run();
                }
                WorkloadRunner.settleJit();
                long start = System.nanoTime();
                for (int i = 0; i < 50; i++) {
                    call.run();
                }
                rates.get(name)[r] = 50 * batchSize / ((System.nanoTime() - start) / 1e9);
            }
        }
        Map<String, Double> medians = new LinkedHashMap<>();
        rates.forEach((name, runs) -> {
            Arrays.sort(runs);
            medians.put(name, runs[RUNS / 2]);
        });
        return medians;
    }
}
