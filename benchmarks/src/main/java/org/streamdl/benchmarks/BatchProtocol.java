package org.streamdl.benchmarks;

import java.util.Arrays;

/**
 * The workloads' batch protocol (5 warm-up calls, then 50 timed), repeated and summarised by the
 * median run. One run of 50 calls on a 2-core VM lasts 15-50 ms, and a single scheduler hiccup in
 * it moved the figure by up to 40 % between identical runs; the median of five runs is stable to a
 * few percent. Both StreamDL and ONNX Runtime are measured with it.
 */
final class BatchProtocol {
    static final int RUNS = 5;
    static final String DESCRIPTION = "median of " + RUNS + " runs of 5 warm-up + 50 timed calls";

    /** One inference call; may throw what the system under test throws. */
    interface Call {
        void run() throws Exception;
    }

    private BatchProtocol() {}

    /** Images/s of the median run. */
    static double imagesPerSecond(Call call, long batchSize) throws Exception {
        double[] rates = new double[RUNS];
        for (int r = 0; r < RUNS; r++) {
            for (int i = 0; i < 5; i++) {
                call.run();
            }
            WorkloadRunner.settleJit();
            long start = System.nanoTime();
            for (int i = 0; i < 50; i++) {
                call.run();
            }
            rates[r] = 50 * batchSize / ((System.nanoTime() - start) / 1e9);
        }
        Arrays.sort(rates);
        return rates[RUNS / 2];
    }
}
