package org.streamdl.dnn.dnnl;

/**
 * The number of threads oneDNN may use for calls from one Java thread. The JavaCPP preset runs
 * oneDNN on OpenMP, whose team size is a per-calling-thread setting ({@code omp_set_num_threads});
 * the preset does not expose that function, so today the team size is OpenMP's default: the
 * {@code OMP_NUM_THREADS} environment variable, else every core.
 */
final class OpenMpThreads {
    private final int threads;

    OpenMpThreads(int threads) {
        this.threads = threads;
    }

    void applyToCallingThread() {
        // The team size follows OMP_NUM_THREADS until a binding for omp_set_num_threads exists.
    }

    int requested() {
        return threads;
    }
}
