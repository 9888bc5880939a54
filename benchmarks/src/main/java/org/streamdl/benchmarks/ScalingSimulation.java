package org.streamdl.benchmarks;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Predicts the throughput of synchronous distributed training (workers plus parameter shards, one
 * of each per machine) for P = 8 to 512 from an analytic model of one step; it measures nothing.
 *
 * <pre>
 * step(P) = compute_per_sample * samples_per_worker
 *         + worker_fixed_overhead + 8N bytes * copy_cost          (serialise and gather, both sides)
 *         + 8N (1 - 1/P) bytes / bandwidth                         (gradients out, new weights in)
 *         + 2 * hop_latency + 2P * message_overhead
 *         + N * shard_sum_cost + (N / P) * sgd_update_cost         (the shard's part of the step)
 * </pre>
 *
 * Assumptions: a full-duplex NIC per machine; gradient and weight phases do not overlap; no
 * staleness; one core per LeNet worker (calibrated: 4.9 ms per 64 samples, 1.2 ms worker
 * serialisation per step at P = 2); an Inception-v1 node sustaining 300 GFLOP/s on 4.5 GFLOP per
 * image, with a fixed batch per worker. Small-batch efficiency losses and stragglers are ignored,
 * so the figures are upper bounds.
 *
 * <pre>
 * java -cp benchmarks/target/streamdl-benchmarks.jar org.streamdl.benchmarks.ScalingSimulation
 *      [--bandwidth-gbit X] [--hop-latency-us X]
 * </pre>
 */
public final class ScalingSimulation {
    static final double DEFAULT_NETWORK_BYTES_PER_SECOND = 1.25e9; // 10 Gbit/s
    static final double DEFAULT_HOP_LATENCY_MICROS = 50.0;
    static final double MESSAGE_OVERHEAD_MICROS = 20.0;

    // LeNet-5 as measured on a 2-core machine: oneDNN, one thread per worker, 64 samples in 4.9 ms
    static final long LENET_PARAMETERS = 61_706;
    static final int LENET_GLOBAL_BATCH = 128;
    static final double LENET_COMPUTE_MICROS_PER_SAMPLE = 4_900.0 / 64;

    // Inception-v1: ~1.5 GFLOP forward per 224x224 image, ~3x that with the backward pass
    static final long INCEPTION_PARAMETERS = 6_800_000;
    static final double INCEPTION_TRAIN_FLOP_PER_IMAGE = 4.5e9;
    // assumed: about half of a node's f32 peak, what convolutions typically sustain
    static final double NODE_SUSTAINED_FLOP_PER_SECOND = 300e9;
    static final int INCEPTION_BATCH_PER_WORKER = 32;

    // the 1.2 ms measured for LeNet's serialise/gather minus its bulk copies: a per-step cost
    static final double WORKER_FIXED_OVERHEAD_MICROS = 1_100.0;
    // one serialise plus one deserialise of a 27 MB float array, measured on the same machine
    static final double COPY_NANOS_PER_BYTE = 0.42;
    // assumed, memory-bound: reading and adding one gradient float, updating one parameter
    static final double SHARD_SUM_NANOS_PER_FLOAT = 0.5;
    static final double SGD_UPDATE_NANOS_PER_PARAMETER = 1.0;

    static final int[] WORKERS = {8, 16, 32, 64, 128, 256, 512};
    static final int BASELINE_WORKERS = 8;
    static final double MEASURED_LENET_P2_IMAGES_PER_SECOND = 19_700;

    private ScalingSimulation() {}

    /** The network of one run: the defaults above or the command line's. */
    record Network(double bytesPerSecond, double hopLatencyMicros, double messageOverheadMicros) {}

    /** A model to simulate; {@code batch} is the global batch or the batch per worker. */
    record Workload(String name, long parameters, double computeMicrosPerSample, int batch, boolean batchPerWorker) {
        double samplesPerWorker(int workers) {
            return batchPerWorker ? batch : (double) batch / workers;
        }

        int globalBatch(int workers) {
            return batchPerWorker ? batch * workers : batch;
        }

        /** The builder refuses a global batch smaller than the worker count. */
        boolean runs(int workers) {
            return globalBatch(workers) >= workers;
        }
    }

    /** One step's time, split into what computes gradients and what does not. */
    record Step(double computeMicros, double otherMicros) {
        double totalMicros() {
            return computeMicros + otherMicros;
        }
    }

    static Step step(Workload w, int workers, Network net) {
        double compute = w.computeMicrosPerSample() * w.samplesPerWorker(workers);
        double bytes = 8.0 * w.parameters();
        double serialise = WORKER_FIXED_OVERHEAD_MICROS + bytes * COPY_NANOS_PER_BYTE / 1e3;
        // the machine's own slice never leaves it
        double transfer = bytes * (1.0 - 1.0 / workers) / net.bytesPerSecond() * 1e6;
        double latency = 2 * net.hopLatencyMicros();
        // each worker sends one slice to every shard and receives one from every shard
        double messages = 2.0 * workers * net.messageOverheadMicros();
        // a shard adds P slices of N/P floats (N whatever P) but updates only its N/P parameters
        double shard = (w.parameters() * SHARD_SUM_NANOS_PER_FLOAT
                + (double) w.parameters() / workers * SGD_UPDATE_NANOS_PER_PARAMETER) / 1e3;
        return new Step(compute, serialise + transfer + latency + messages + shard);
    }

    static void printTable(PrintStream out, Workload w, Network net) {
        out.println("| P | samples/worker | step ms | images/s | speed-up vs P=8 | efficiency vs P=8 | comm. share |");
        out.println("|---:|---:|---:|---:|---:|---:|---:|");
        double baseline = imagesPerSecond(w, BASELINE_WORKERS, net);
        for (int p : WORKERS) {
            if (!w.runs(p)) {
                out.printf(Locale.ROOT, "| %d | - | - | - | - | - | - |%n", p);
                continue;
            }
            Step s = step(w, p, net);
            double imagesPerSecond = imagesPerSecond(w, p, net);
            double speedUp = imagesPerSecond / baseline;
            double efficiency = speedUp / ((double) p / BASELINE_WORKERS);
            out.printf(Locale.ROOT, "| %d | %s | %.2f | %,.0f | %.2f | %.0f %% | %.0f %% |%n", p,
                    formatSamples(w.samplesPerWorker(p)), s.totalMicros() / 1e3, imagesPerSecond, speedUp,
                    100 * efficiency, 100 * s.otherMicros() / s.totalMicros());
        }
    }

    static double imagesPerSecond(Workload w, int workers, Network net) {
        return w.globalBatch(workers) / step(w, workers, net).totalMicros() * 1e6;
    }

    private static String formatSamples(double samples) {
        return samples == Math.rint(samples) ? String.format(Locale.ROOT, "%.0f", samples)
                : String.format(Locale.ROOT, "%.2f", samples);
    }

    public static void main(String[] args) {
        Network net;
        try {
            net = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("ScalingSimulation: " + e.getMessage());
            System.err.println("usage: ScalingSimulation [--bandwidth-gbit X] [--hop-latency-us X]");
            System.exit(2);
            return;
        }
        PrintStream out = System.out;
        Workload lenet = new Workload("LeNet-5", LENET_PARAMETERS, LENET_COMPUTE_MICROS_PER_SAMPLE,
                LENET_GLOBAL_BATCH, false);
        Workload inception = new Workload("Inception-v1", INCEPTION_PARAMETERS,
                INCEPTION_TRAIN_FLOP_PER_IMAGE / NODE_SUSTAINED_FLOP_PER_SECOND * 1e6, INCEPTION_BATCH_PER_WORKER,
                true);

        out.printf(Locale.ROOT, "Model, not measurement: %.1f Gbit/s per machine, %.0f us per hop, %.0f us per message,"
                + " one worker and one shard per machine.%n%n", net.bytesPerSecond() * 8 / 1e9,
                net.hopLatencyMicros(), net.messageOverheadMicros());

        out.printf(Locale.ROOT, "%s (N = %,d), global batch %d for every P (strong scaling), %.1f us per sample"
                + " per worker:%n%n", lenet.name(), lenet.parameters(), lenet.batch(),
                lenet.computeMicrosPerSample());
        printTable(out, lenet, net);
        out.println();
        out.printf(Locale.ROOT, "%s (N = %,d), %d images per worker, global batch %d x P (weak scaling),"
                + " %.1f ms per image per node:%n%n", inception.name(), inception.parameters(), inception.batch(),
                inception.batch(), inception.computeMicrosPerSample() / 1e3);
        printTable(out, inception, net);
        out.println();

        // the in-JVM run has no NIC, so only the transfer term goes
        Network inJvm = new Network(Double.POSITIVE_INFINITY, net.hopLatencyMicros(), net.messageOverheadMicros());
        double calibration = imagesPerSecond(lenet, 2, inJvm);
        out.printf(Locale.ROOT, "Calibration: LeNet-5 at P = 2 without transfer time: model %,.0f images/s,"
                + " measured %,.0f images/s in one JVM.%n", calibration, MEASURED_LENET_P2_IMAGES_PER_SECOND);
        out.println("\"-\": the global batch is smaller than P, which the training builder refuses.");
        out.println("comm. share: the part of the step that is not gradient computation.");
    }

    static Network parse(String[] args) {
        double bytesPerSecond = DEFAULT_NETWORK_BYTES_PER_SECOND;
        double hopMicros = DEFAULT_HOP_LATENCY_MICROS;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--bandwidth-gbit" -> bytesPerSecond = positive(args, ++i, "--bandwidth-gbit") * 1e9 / 8;
                case "--hop-latency-us" -> hopMicros = nonNegative(args, ++i, "--hop-latency-us");
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        return new Network(bytesPerSecond, hopMicros, MESSAGE_OVERHEAD_MICROS);
    }

    private static double positive(String[] args, int i, String flag) {
        double v = number(args, i, flag);
        if (!(v > 0)) {
            throw new IllegalArgumentException(flag + " must be > 0 but was " + args[i]);
        }
        return v;
    }

    private static double nonNegative(String[] args, int i, String flag) {
        double v = number(args, i, flag);
        if (!(v >= 0)) {
            throw new IllegalArgumentException(flag + " must be >= 0 but was " + args[i]);
        }
        return v;
    }

    private static double number(String[] args, int i, String flag) {
        if (i >= args.length) {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        try {
            double v = Double.parseDouble(args[i]);
            if (Double.isInfinite(v)) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " needs a number but was " + args[i]);
        }
    }
}
