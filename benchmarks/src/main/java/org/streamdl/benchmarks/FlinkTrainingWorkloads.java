package org.streamdl.benchmarks;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.data.InMemoryDataset;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.train.Evaluation;
import org.streamdl.flink.connector.decode.DecodedSamples;
import org.streamdl.flink.connector.files.FileSamples;
import org.streamdl.flink.connector.formats.SampleSpec;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.training.DistributedTraining;
import org.streamdl.flink.training.ModelBytes;
import org.streamdl.tensor.DType;

/**
 * L1 through Flink ({@code --engine flink --parallelism P}): the IDX files are read by a Flink
 * source, decoded, and trained by P workers on an embedded cluster with P slots. Rates come from
 * the job's own output: a snapshot every 100 steps carries its time and the samples applied so far
 * (more often, shipping the snapshots to this client costs the two cores measurably).
 */
final class FlinkTrainingWorkloads {
    private static final int SNAPSHOT_EVERY_STEPS = 100;
    private static final int BATCH = 128;
    private static final int EPOCH_SIZE = 60_000;
    /**
     * Whole L1 jobs run on the same embedded cluster before the timed one, as a job on a
     * long-running session cluster meets a JVM that has run jobs before. On a fresh JVM, HotSpot
     * compiled Flink's runtime, the serializers and the training loop during the timed job, taking
     * 10-45 % of both cores (perf) well into its second epoch; a short warm-up job was not enough,
     * as the per-step code reaches C2's thresholds only after about a thousand steps. The first
     * rehearsal's figures are reported as {@code cold_*}.
     */
    static final int REHEARSALS = 2;

    private FlinkTrainingWorkloads() {}

    static Map<String, Object> lenet5(WorkloadRunner.Options options) throws Exception {
        if (options.maxIterations() > 0) {
            throw new WorkloadRunner.UnsupportedWorkloadException("--max-iterations with --engine flink");
        }
        Path data = Path.of(options.data());
        int workers = options.parallelism();
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, workers);
        Path images = data.resolve("train-images-idx3-ubyte.gz");
        Path labels = data.resolve("train-labels-idx1-ubyte.gz");
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("parallelism", workers);
        try (SessionCluster cluster = SessionCluster.start(conf, workers)) {
            Map<String, Object> cold = null;
            for (int i = 0; i < REHEARSALS; i++) {
                Run rehearsal = train(cluster, conf, options, images, labels);
                cold = cold == null ? rehearsal.rates(options) : cold;
            }
            WorkloadRunner.settleJit();
            Run run = train(cluster, conf, options, images, labels);
            figures.putAll(run.rates(options));
            InMemoryDataset test = InMemoryDataset.fashionMnist(data, "t10k");
            figures.put("test_acc_epoch1", accuracy(run.endOfEpoch1(), test));
            figures.put("test_acc_epoch3", accuracy(run.last(), test));
            figures.put("samples_applied", run.last().samplesApplied());
            for (Map.Entry<String, Object> e : cold.entrySet()) {
                figures.put("cold_" + e.getKey(), e.getValue());
            }
            figures.put("rehearsal_jobs", REHEARSALS);
        }
        return figures;
    }

    /** A finished L1 job: its snapshots by version and its wall time. */
    private record Run(List<ModelSnapshot> snapshots, double wallSeconds) {
        ModelSnapshot endOfEpoch1() {
            return lastUpTo(snapshots, EPOCH_SIZE);
        }

        ModelSnapshot last() {
            return snapshots.get(snapshots.size() - 1);
        }

        Map<String, Object> rates(WorkloadRunner.Options options) {
            Map<String, Object> rates = new LinkedHashMap<>();
            rates.put("train_img_s_epoch1_steady", rate(first(snapshots, 20L * BATCH), endOfEpoch1()));
            if (options.epochs() > 1) {
                rates.put("train_img_s_epochs2_3", rate(endOfEpoch1(), last()));
            }
            rates.put("wall_s_3_epochs_train", WorkloadRunner.round(wallSeconds, 2));
            return rates;
        }
    }

    /** Runs the L1 job on {@code cluster} over the given IDX files. */
    private static Run train(SessionCluster cluster, Configuration conf, WorkloadRunner.Options options, Path images,
                             Path labels) throws Exception {
        int workers = options.parallelism();
        StreamExecutionEnvironment env = cluster.environment(conf, workers);
        SampleSpec spec = SampleSpec.builder().feature("input", DType.FLOAT32, 1, 28, 28).classLabel(10).build();
        DecodedSamples samples = FileSamples.idx(env, images.toString(), labels.toString(), spec);
        DataStream<ModelSnapshot> models = DistributedTraining.of(org.streamdl.examples.FashionMnistDemo.recipe())
                .parallelism(workers).globalBatchSize(BATCH).epochs(options.epochs())
                .threadsPerWorker(options.threads()).maxBatchDelay(Duration.ZERO)
                .snapshotEverySteps(SNAPSHOT_EVERY_STEPS).build()
                .train(samples.samples());
        DataStream.Collector<ModelSnapshot> collector = new DataStream.Collector<>();
        models.collectAsync(collector);
        long start = System.nanoTime();
        JobClient job = env.executeAsync("L1 through Flink, P=" + workers);
        List<ModelSnapshot> snapshots = new ArrayList<>();
        try (CloseableIterator<ModelSnapshot> it = collector.getOutput()) {
            it.forEachRemaining(snapshots::add);   // read while the job runs: the collect sink's buffer is small
        }
        job.getJobExecutionResult().get();
        double wall = (System.nanoTime() - start) / 1e9;
        snapshots.sort(Comparator.comparingLong(ModelSnapshot::version));
        return new Run(snapshots, wall);
    }

    private static ModelSnapshot first(List<ModelSnapshot> snapshots, long samples) {
        return snapshots.stream().filter(s -> s.samplesApplied() >= samples).findFirst().orElseThrow();
    }

    private static ModelSnapshot lastUpTo(List<ModelSnapshot> snapshots, long samples) {
        ModelSnapshot best = snapshots.get(0);
        for (ModelSnapshot s : snapshots) {
            if (s.samplesApplied() <= samples) {
                best = s;
            }
        }
        return best;
    }

    private static double rate(ModelSnapshot from, ModelSnapshot to) {
        double seconds = (to.createdAt() - from.createdAt()) / 1000.0;
        return Math.round((to.samplesApplied() - from.samplesApplied()) / seconds);
    }

    private static double accuracy(ModelSnapshot snapshot, InMemoryDataset test) throws Exception {
        try (Model model = ModelBytes.read(snapshot.modelFile(), "lenet5-v" + snapshot.version(), Kernels.create(2)).model()) {
            return WorkloadRunner.round(Evaluation.accuracy(model, test, 1000), 4);
        }
    }
}
