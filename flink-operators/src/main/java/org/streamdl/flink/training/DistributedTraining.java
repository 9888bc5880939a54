package org.streamdl.flink.training;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.connector.records.Sample;

/**
 * Data-parallel training of one network by P Flink subtasks, with weights in parameter shards
 * (keyed state) and updates returned to the workers through broadcast and an in-JVM back edge.
 *
 * <pre>{@code
 * TrainingJob job = DistributedTraining.of(recipe)
 *     .parallelism(2).globalBatchSize(128).epochs(3)
 *     .snapshotEverySteps(100)
 *     .build();
 * DataStream<ModelSnapshot> models = job.train(samples);
 * }</pre>
 *
 * <p>Synchronous by default: with the same data, order and global batch, the result equals
 * single-JVM training up to floating-point summation order. {@link Builder#maxStaleness} lets a worker
 * run ahead. Bounded input finishes by itself with a final snapshot; online input emits snapshots
 * every N steps or T time.
 */
public final class DistributedTraining {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DistributedTraining.class);

    /**
     * Later epochs run over a cache that is part of each worker's checkpointed state; the JobManager's
     * in-memory checkpoint storage refuses state past 5 MiB, and a checkpoint that fails fails the
     * job, which then restarts without end. Said when the job is built, as far as its
     * configuration shows (a cluster may still set checkpoint storage of its own).
     */
    private static void warnIfCacheMeetsMemoryCheckpoints(
            org.apache.flink.streaming.api.environment.StreamExecutionEnvironment env, int epochs) {
        if (cacheMeetsMemoryCheckpoints(env, epochs)) {
            LOG.warn("{} epochs with checkpoints: each training worker keeps its share of the samples for the later "
                    + "epochs in checkpointed state, and the JobManager's in-memory checkpoint storage refuses state "
                    + "past 5 MiB (about 1,600 Fashion-MNIST images per worker). Set {} to checkpoint to files.",
                    epochs, org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY.key());
        }
    }

    /** Whether more than one epoch meets checkpoints that, by this configuration, stay in the JobManager's memory. */
    static boolean cacheMeetsMemoryCheckpoints(org.apache.flink.streaming.api.environment.StreamExecutionEnvironment env,
                                               int epochs) {
        if (epochs < 2 || !env.getCheckpointConfig().isCheckpointingEnabled()) {
            return false;
        }
        var conf = env.getConfiguration();
        boolean files = conf.getOptional(org.apache.flink.configuration.CheckpointingOptions.CHECKPOINTS_DIRECTORY).isPresent()
                || !"jobmanager".equalsIgnoreCase(conf.getOptional(
                        org.apache.flink.configuration.CheckpointingOptions.CHECKPOINT_STORAGE).orElse("jobmanager"));
        return !files;
    }

    public static final int DEFAULT_GLOBAL_BATCH_SIZE = 128;
    public static final Duration DEFAULT_MAX_BATCH_DELAY = Duration.ofSeconds(1);
    public static final long DEFAULT_SNAPSHOT_EVERY_STEPS = 1000;

    private DistributedTraining() {}

    public static Builder of(TrainingRecipe recipe) {
        return new Builder(recipe);
    }

    public static final class Builder {
        private final TrainingRecipe recipe;
        private int parallelism = -1;
        private int slices = -1;
        private int globalBatchSize = DEFAULT_GLOBAL_BATCH_SIZE;
        private int epochs = 1;
        private int maxStaleness;
        private Duration maxBatchDelay = DEFAULT_MAX_BATCH_DELAY;
        private long snapshotEverySteps = DEFAULT_SNAPSHOT_EVERY_STEPS;
        private Duration snapshotEvery = Duration.ZERO;
        private int threadsPerWorker = 1;
        private String featureName;
        private long seed = 42;
        private boolean keepInputPartitioning;
        private Map<String, String> provenance = Map.of();

        private Builder(TrainingRecipe recipe) {
            this.recipe = Objects.requireNonNull(recipe, "recipe");
        }

        /** Number of workers P (and of shard subtasks); defaults to the input stream's environment parallelism. */
        public Builder parallelism(int workers) {
            check(workers >= 1, "parallelism must be >= 1 but was %s", workers);
            this.parallelism = workers;
            return this;
        }

        /**
         * Number of parameter slices S, spread over the shard subtasks; by default one per shard
         * subtask, more for models whose slices would pass 2^20 parameters.
         */
        public Builder slices(int count) {
            check(count >= 1, "slices must be >= 1 but was %s", count);
            this.slices = count;
            return this;
        }

        /** Samples per update, summed over all workers; each worker takes global / P of them. */
        public Builder globalBatchSize(int size) {
            check(size >= 1, "globalBatchSize must be >= 1 but was %s", size);
            this.globalBatchSize = size;
            return this;
        }

        /**
         * Passes over bounded input; the first runs as samples arrive, the rest over each worker's cache.
         * The cache is part of the worker's checkpointed state (a worker restored mid-training still has
         * its share of the data), so with checkpoints and more than one epoch the job needs checkpoint
         * storage on files: the JobManager's in-memory storage refuses state past 5 MiB, some 1,600
         * Fashion-MNIST images per worker.
         */
        public Builder epochs(int count) {
            check(count >= 1, "epochs must be >= 1 but was %s", count);
            this.epochs = count;
            return this;
        }

        /**
         * How many steps a worker may run ahead of the newest weights it holds; 0 is synchronous. A
         * gradient computed on weights s steps old acts like extra momentum, so a recipe tuned for
         * synchronous training wants less momentum or a lower rate: L1's SGD (rate 0.05, momentum
         * 0.9) at P=2 reached 0.82 test accuracy with staleness 1 instead of 0.87, and diverged
         * with staleness 2. On two cores it was no faster either; it pays where a step's round
         * trip is long against its compute.
         */
        public Builder maxStaleness(int steps) {
            check(steps >= 0, "maxStaleness must be >= 0 but was %s", steps);
            this.maxStaleness = steps;
            return this;
        }

        /**
         * How long a worker with an incomplete batch waits before contributing what it has (zero
         * samples for an idle partition); {@link Duration#ZERO} waits for full batches only.
         */
        public Builder maxBatchDelay(Duration delay) {
            check(!delay.isNegative(), "maxBatchDelay must not be negative but was %s", delay);
            this.maxBatchDelay = delay;
            return this;
        }

        /** A snapshot after every {@code steps} updates that applied samples (0: none by count). */
        public Builder snapshotEverySteps(long steps) {
            check(steps >= 0, "snapshotEverySteps must be >= 0 but was %s", steps);
            this.snapshotEverySteps = steps;
            return this;
        }

        /** A snapshot at most this often by time, when samples were applied since the last (zero: none by time). */
        public Builder snapshotEvery(Duration interval) {
            check(!interval.isNegative(), "snapshotEvery must not be negative but was %s", interval);
            this.snapshotEvery = interval;
            return this;
        }

        /** oneDNN threads per worker; P workers in one JVM should together use at most its cores. */
        public Builder threadsPerWorker(int threads) {
            check(threads >= 1, "threadsPerWorker must be >= 1 but was %s", threads);
            this.threadsPerWorker = threads;
            return this;
        }

        /** The sample feature fed to the network; by default a sample's only feature. */
        public Builder feature(String name) {
            this.featureName = Objects.requireNonNull(name);
            return this;
        }

        /** Seeds the per-worker shuffles of cached epochs and layer randomness such as dropout. */
        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        /**
         * Workers read the input exactly as partitioned by the caller (e.g. {@code partitionCustom})
         * instead of a rebalance; for reproducible assignments of samples to workers.
         */
        public Builder keepInputPartitioning() {
            this.keepInputPartitioning = true;
            return this;
        }

        /**
         * Entries every snapshot's model file carries in its provenance, such as the job's options;
         * the loop's own {@code training.*} entries take precedence over a key of the same name.
         */
        public Builder provenance(Map<String, String> entries) {
            this.provenance = Map.copyOf(entries);
            return this;
        }

        public TrainingJob build() {
            return new TrainingJob(this);
        }
    }

    /** The configured loop; {@link #train} adds it to the input's job. */
    public static final class TrainingJob {
        private final Builder b;

        private TrainingJob(Builder b) {
            this.b = b;
        }

        public DataStream<ModelSnapshot> train(DataStream<Sample> samples) {
            int workers = b.parallelism > 0 ? b.parallelism : samples.getExecutionEnvironment().getParallelism();
            long parameters = parameterCount(recipe());
            int slices = b.slices > 0 ? b.slices : defaultSlices(parameters, workers);
            check(slices <= parameters, "%s slices for a model of only %s parameters", slices, parameters);
            check(b.globalBatchSize >= workers, "globalBatchSize %s is smaller than the %s workers", b.globalBatchSize, workers);
            int maxParallelism = KeyGroupRangeAssignment.computeDefaultMaxParallelism(workers);
            String loopId = "streamdl-" + recipe().modelName() + "-" + UUID.randomUUID();
            LoopConfig config = new LoopConfig(loopId, workers, slices,
                    ParameterLayout.balancedKeys(slices, workers, maxParallelism), b.globalBatchSize, b.epochs,
                    b.maxStaleness, b.maxBatchDelay.toMillis(), b.snapshotEverySteps, b.snapshotEvery.toMillis(),
                    b.threadsPerWorker, b.featureName, b.seed, b.provenance);
            String name = recipe().modelName();
            warnIfCacheMeetsMemoryCheckpoints(samples.getExecutionEnvironment(), b.epochs);

            DataStream<Sample> input = b.keepInputPartitioning ? samples : samples.rebalance();
            SingleOutputStreamOperator<GradientSlice> gradients = input
                    .transform("training-worker " + name, LoopTypes.GRADIENT_SLICE,
                            new TrainingWorkerOperatorFactory(recipe(), config))
                    .setParallelism(workers)
                    .uid("streamdl-training-worker-" + name);
            // the loop's records are few and large, and a step waits for them: send each at once
            // rather than when a network buffer fills or the flush timer fires
            gradients.startNewChain().setBufferTimeout(0);
            SingleOutputStreamOperator<WeightSlice> updates = gradients
                    .keyBy(new SliceKey(config.sliceKeys()), Types.INT)
                    .transform("parameter-shard " + name, LoopTypes.WEIGHT_SLICE,
                            new ParameterShardOperator(recipe(), workers, config.sliceKeys()))
                    .setParallelism(workers)
                    .setMaxParallelism(maxParallelism)
                    .uid("streamdl-parameter-shard-" + name)
                    .setBufferTimeout(0);
            SingleOutputStreamOperator<Void> tail = updates.broadcast()
                    .transform("feedback-tail " + name, Types.VOID, new FeedbackTailOperator(loopId))
                    .setParallelism(workers)
                    .uid("streamdl-feedback-tail-" + name);
            tail.sinkTo(new DiscardingSink<>()).setParallelism(workers).name("feedback-end " + name);
            CoLocation.group(loopId, gradients, tail);
            return gradients.getSideOutput(TrainingWorkerOperator.SNAPSHOTS);
        }

        private TrainingRecipe recipe() {
            return b.recipe;
        }
    }

    /**
     * The most parameters in one slice by default: 4 MiB of floats, under the size past which Flink's
     * deserializer spills a record to disk. Below that, fewer and larger records cost less than many
     * small ones (each is a flush and a thread wake-up: LeNet-5 with 16 slices instead of 2 made 60 %
     * more context switches and ran slower).
     */
    static final int DEFAULT_SLICE_VALUES = 1 << 20;
    private static final int MAX_DEFAULT_SLICES = 1024;

    /** One slice per shard subtask, more when a slice would pass {@link #DEFAULT_SLICE_VALUES}. */
    static int defaultSlices(long parameters, int workers) {
        long bySize = (parameters + DEFAULT_SLICE_VALUES - 1) / DEFAULT_SLICE_VALUES;
        return (int) Math.max(workers, Math.min(bySize, Math.max(workers, MAX_DEFAULT_SLICES)));
    }

    /** Builds the model once in the client: a recipe that cannot build its model fails here, before the job runs. */
    private static long parameterCount(TrainingRecipe recipe) {
        try (org.streamdl.dnn.Kernels kernels = org.streamdl.dnn.Kernels.create(1, org.streamdl.dnn.Kernels.Preference.REFERENCE);
             org.streamdl.dnn.model.Model model = recipe.createModel(kernels)) {
            return new ParameterLayout(model.parameters(), 1).totalLength();
        }
    }

    /** Routes slice s to its precomputed key, so slices spread evenly over shard subtasks. */
    record SliceKey(int[] keys) implements KeySelector<GradientSlice, Integer> {
        @Override
        public Integer getKey(GradientSlice slice) {
            return keys[slice.sliceId()];
        }
    }

    private static void check(boolean condition, String template, Object... args) {
        if (!condition) {
            throw new IllegalArgumentException(String.format(template, args));
        }
    }
}
