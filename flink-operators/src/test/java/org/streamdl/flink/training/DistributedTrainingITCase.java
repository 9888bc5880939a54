package org.streamdl.flink.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.Partitioner;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.java.functions.KeySelector;
import org.apache.flink.runtime.state.FunctionInitializationContext;
import org.apache.flink.runtime.state.FunctionSnapshotContext;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.source.legacy.RichParallelSourceFunction;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.data.InMemoryDataset;
import org.streamdl.dnn.losses.Loss;
import org.streamdl.dnn.losses.SoftmaxCrossEntropy;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.optim.Sgd;
import org.streamdl.dnn.train.Evaluation;
import org.streamdl.dnn.train.Trainer;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.serialization.StreamDLTypes;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Tensor;
import org.junit.jupiter.api.Timeout;

/** The training loop on a MiniCluster with two slots: equivalence, online progress, exactly-once recovery. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)   // a stalled job fails here instead of hanging the build
class DistributedTrainingITCase {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    static StreamExecutionEnvironment env(Configuration conf) {
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        return env;
    }

    static List<ModelSnapshot> drain(CloseableIterator<ModelSnapshot> it) throws Exception {
        List<ModelSnapshot> out = new ArrayList<>();
        try (it) {
            it.forEachRemaining(out::add);
        }
        return out;
    }

    static ModelSnapshot last(List<ModelSnapshot> snapshots) {
        return snapshots.stream().max(Comparator.comparingLong(ModelSnapshot::version)).orElseThrow();
    }

    /** Sample i goes to worker 0 if it is in the first half of its global batch, else to worker 1. */
    record HalfOfBatch(int globalBatch) implements Partitioner<Integer> {
        @Override
        public int partition(Integer index, int partitions) {
            return index % globalBatch < globalBatch / 2 ? 0 : 1;
        }
    }

    static final class IndexOf implements KeySelector<Sample, Integer> {
        @Override
        public Integer getKey(Sample s) {
            return Integer.parseInt(s.key());
        }
    }

    @Test
    void twoWorkersEqualTheSingleJvmTrainerAfterFiftySteps() throws Exception {
        int globalBatch = 32;
        int steps = 50;
        List<Sample> samples = Blobs.samples(11, globalBatch * steps);

        StreamExecutionEnvironment env = env(new Configuration());
        DataStream<Sample> partitioned = env.fromData(samples).partitionCustom(new HalfOfBatch(globalBatch), new IndexOf());
        DataStream<ModelSnapshot> models = DistributedTraining.of(Blobs.recipe())
                .parallelism(2).globalBatchSize(globalBatch).maxBatchDelay(Duration.ZERO).snapshotEverySteps(0)
                .keepInputPartitioning().build().train(partitioned);
        DataStream.Collector<ModelSnapshot> collector = new DataStream.Collector<>();
        models.collectAsync(collector);
        env.execute("equivalence");
        List<ModelSnapshot> snapshots = drain(collector.getOutput());
        ModelSnapshot result = last(snapshots);
        assertEquals(1, snapshots.size(), "only the final snapshot was asked for");
        assertEquals((long) globalBatch * steps, result.samplesApplied());

        try (Model single = Blobs.mlp(Kernels.create(1))) {
            Sgd sgd = new Sgd(single.allocator(), 0.05, 0.9);
            Trainer.builder(single, SoftmaxCrossEntropy::new, sgd).batchSize(globalBatch).epochs(1).shuffle(false)
                    .logEvery(0).build().fit(Blobs.dataset(11, globalBatch * steps), null);
            ModelFile.Contents distributed = ModelBytes.read(result.modelFile(), "equivalence", Kernels.create(1));
            try (Model trained = distributed.model()) {
                for (Parameter expected : single.parameters()) {
                    float[] want = org.streamdl.tensor.ops.Convert.toFloatArray(expected.value());
                    float[] got = org.streamdl.tensor.ops.Convert.toFloatArray(trained.parameter(expected.name()).value());
                    double diff = 0;
                    double norm = 0;
                    for (int i = 0; i < want.length; i++) {
                        diff += (got[i] - want[i]) * (double) (got[i] - want[i]);
                        norm += want[i] * (double) want[i];
                    }
                    double relative = Math.sqrt(diff / norm);
                    assertTrue(relative <= 1e-4, expected.name() + ": relative difference " + relative + " > 1e-4");
                }
                assertTrue(differsFromInitial(trained), "training changed the weights");
            }
        }
    }

    private static boolean differsFromInitial(Model trained) {
        try (Kernels kernels = Kernels.create(1, Kernels.Preference.REFERENCE);
             Model initial = Blobs.mlp(kernels)) {
            float[] a = org.streamdl.tensor.ops.Convert.toFloatArray(initial.parameter("fc1.weight").value());
            float[] b = org.streamdl.tensor.ops.Convert.toFloatArray(trained.parameter("fc1.weight").value());
            for (int i = 0; i < a.length; i++) {
                if (Math.abs(a[i] - b[i]) > 1e-3) {
                    return true;
                }
            }
            return false;
        }
    }


    /** Subtask 0 emits samples and then stays open; subtask 1 never emits anything: an idle partition. */
    static final class OnePartitionSource extends RichParallelSourceFunction<Sample> {
        private final int count;
        private volatile boolean running = true;

        OnePartitionSource(int count) {
            this.count = count;
        }

        @Override
        public void run(SourceContext<Sample> ctx) throws Exception {
            if (getRuntimeContext().getTaskInfo().getIndexOfThisSubtask() == 0) {
                for (int i = 0; i < count && running; i++) {
                    synchronized (ctx.getCheckpointLock()) {
                        ctx.collect(Blobs.sample(5, i));
                    }
                }
            }
            synchronized (this) {
                while (running) {
                    wait(100);
                }
            }
        }

        @Override
        public void cancel() {
            running = false;
            synchronized (this) {
                notifyAll();
            }
        }
    }

    @Test
    void onlineTrainingWithAnIdlePartitionStillProducesModelVersions() throws Exception {
        StreamExecutionEnvironment env = env(new Configuration());
        DataStream<Sample> samples = env.addSource(new OnePartitionSource(3000), "one-partition", StreamDLTypes.SAMPLE)
                .setParallelism(2);
        DataStream<ModelSnapshot> models = DistributedTraining.of(Blobs.recipe())
                .parallelism(2).globalBatchSize(32).maxBatchDelay(Duration.ofMillis(20)).snapshotEverySteps(20)
                .keepInputPartitioning().build().train(samples);
        DataStream.Collector<ModelSnapshot> collector = new DataStream.Collector<>();
        models.collectAsync(collector);
        JobClient job = env.executeAsync("online with an idle partition");
        List<ModelSnapshot> seen = new ArrayList<>();
        try (CloseableIterator<ModelSnapshot> it = collector.getOutput()) {
            while (seen.size() < 4 && it.hasNext()) {
                seen.add(it.next());
            }
        } finally {
            job.cancel().get();
        }
        assertEquals(4, seen.size());
        for (int i = 1; i < seen.size(); i++) {
            assertTrue(seen.get(i).version() > seen.get(i - 1).version(), "versions increase: " + seen);
            assertTrue(seen.get(i).samplesApplied() > seen.get(i - 1).samplesApplied(), "samples applied grow: " + seen);
        }
        assertTrue(seen.get(3).samplesApplied() <= 3000);
    }

    @Test
    void boundedStalenessWithMoreSlicesThanWorkersAppliesEverySampleAndLearns() throws Exception {
        int records = 4000;
        StreamExecutionEnvironment env = env(new Configuration());
        DataStream<Sample> samples = env.fromSequence(0, records - 1).setParallelism(1)
                .map(new ToSample()).returns(StreamDLTypes.SAMPLE).setParallelism(1);
        DataStream<ModelSnapshot> models = DistributedTraining.of(Blobs.recipe())
                .parallelism(2).slices(5).globalBatchSize(32).maxStaleness(2).maxBatchDelay(Duration.ZERO)
                .snapshotEverySteps(0).build().train(samples);
        DataStream.Collector<ModelSnapshot> collector = new DataStream.Collector<>();
        models.collectAsync(collector);
        env.execute("bounded staleness");
        ModelSnapshot result = last(drain(collector.getOutput()));
        assertEquals(records, result.samplesApplied());
        try (Kernels kernels = Kernels.create(1);
             Model model = ModelBytes.read(result.modelFile(), "stale", kernels).model()) {
            double accuracy = Evaluation.accuracy(model, Blobs.dataset(99, 2000), 500);
            assertTrue(accuracy > 0.8, "accuracy with staleness 2: " + accuracy);
        }
    }

    static final AtomicInteger COMPLETED_CHECKPOINTS = new AtomicInteger();
    static final AtomicInteger LOSS_CALLS = new AtomicInteger();
    static final AtomicBoolean FAILED_ONCE = new AtomicBoolean();
    static final AtomicBoolean RESTORED_FROM_CHECKPOINT = new AtomicBoolean();
    static volatile boolean injectFailure;

    /** Passes samples through and counts completed checkpoints, so the failure comes after one. */
    static final class CheckpointObserver implements MapFunction<Sample, Sample>, CheckpointListener, CheckpointedFunction {
        @Override
        public Sample map(Sample s) {
            return s;
        }

        @Override
        public void initializeState(FunctionInitializationContext context) {
            if (context.isRestored()) {
                RESTORED_FROM_CHECKPOINT.set(true);
            }
        }

        @Override
        public void snapshotState(FunctionSnapshotContext context) {}

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            COMPLETED_CHECKPOINTS.incrementAndGet();
        }
    }

    /** Softmax cross-entropy that throws once, in some worker, after step 30 and a completed checkpoint. */
    static Loss failingOnce() {
        Loss inner = new SoftmaxCrossEntropy();
        return new Loss() {
            @Override
            public double forward(Tensor predictions, Tensor targets, Allocator step) {
                if (injectFailure && LOSS_CALLS.incrementAndGet() > 30 && COMPLETED_CHECKPOINTS.get() > 0
                        && FAILED_ONCE.compareAndSet(false, true)) {
                    throw new IllegalStateException("injected worker failure");
                }
                return inner.forward(predictions, targets, step);
            }

            @Override
            public Tensor gradient(Allocator step) {
                return inner.gradient(step);
            }
        };
    }

    static final class ToSample implements MapFunction<Long, Sample> {
        @Override
        public Sample map(Long index) {
            return Blobs.sample(3, index);
        }
    }

    private static ModelSnapshot trainWithCheckpoints(int records, boolean fail) throws Exception {
        injectFailure = fail;
        LOSS_CALLS.set(0);
        COMPLETED_CHECKPOINTS.set(0);
        FAILED_ONCE.set(false);
        RESTORED_FROM_CHECKPOINT.set(false);
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 2);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ZERO);
        StreamExecutionEnvironment env = env(conf);
        env.enableCheckpointing(30);
        DataStream<Sample> samples = env.fromSequence(0, records - 1).setParallelism(1)
                .map(new ToSample()).returns(StreamDLTypes.SAMPLE).setParallelism(1)
                .map(new CheckpointObserver()).returns(StreamDLTypes.SAMPLE).setParallelism(1);
        TrainingRecipe recipe = TrainingRecipe.of("blobs", Blobs::mlp, DistributedTrainingITCase::failingOnce,
                state -> new Sgd(state, 0.05, 0.9));
        DataStream<ModelSnapshot> models = DistributedTraining.of(recipe)
                .parallelism(2).globalBatchSize(32).maxBatchDelay(Duration.ZERO).snapshotEverySteps(0).build()
                .train(samples);
        DataStream.Collector<ModelSnapshot> collector = new DataStream.Collector<>();
        models.collectAsync(collector);
        env.execute(fail ? "training with a failure" : "training undisturbed");
        return last(drain(collector.getOutput()));
    }

    @Test
    void aWorkerFailureRestoresFromTheCheckpointWithEverySampleAppliedOnce() throws Exception {
        int records = 6000;
        ModelSnapshot undisturbed = trainWithCheckpoints(records, false);
        ModelSnapshot recovered = trainWithCheckpoints(records, true);
        assertTrue(FAILED_ONCE.get(), "the failure was injected");
        assertTrue(RESTORED_FROM_CHECKPOINT.get(), "the job restarted from a checkpoint, not from scratch");
        assertEquals(records, undisturbed.samplesApplied());
        assertEquals(records, recovered.samplesApplied(), "samples applied after the restore");

        InMemoryDataset test = Blobs.dataset(99, 2000);
        // each model owns the kernels it is read with, and closes them
        ModelFile.Contents r = ModelBytes.read(recovered.modelFile(), "recovered", Kernels.create(1));
        ModelFile.Contents u = ModelBytes.read(undisturbed.modelFile(), "undisturbed", Kernels.create(1));
        assertEquals(Long.toString(records), r.provenance().get("training.samplesApplied"));
        try (Model recoveredModel = r.model(); Model undisturbedModel = u.model()) {
            double recoveredAccuracy = Evaluation.accuracy(recoveredModel, test, 500);
            double undisturbedAccuracy = Evaluation.accuracy(undisturbedModel, test, 500);
            assertTrue(undisturbedAccuracy > 0.8, "undisturbed accuracy " + undisturbedAccuracy);
            assertTrue(Math.abs(recoveredAccuracy - undisturbedAccuracy) < 0.03,
                    "recovered " + recoveredAccuracy + " vs undisturbed " + undisturbedAccuracy);
        }
    }
}
