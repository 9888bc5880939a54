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
import org.streamdl.dnn.model.Models;
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
 * source, decoded, and trained by P workers on an embedded MiniCluster with P slots. Rates come from
 * the job's own output: a snapshot every 100 steps carries its time and the samples applied so far
 * (more often, shipping the snapshots to this client costs the two cores measurably).
 */
final class FlinkTrainingWorkloads {
    private static final int SNAPSHOT_EVERY_STEPS = 100;
    private static final int BATCH = 128;

    private FlinkTrainingWorkloads() {}

    static Map<String, Object> lenet5(WorkloadRunner.Options options) throws Exception {
        if (options.maxIterations() > 0) {
            throw new WorkloadRunner.UnsupportedWorkloadException("--max-iterations with --engine flink");
        }
        Path data = Path.of(options.data());
        int workers = options.parallelism();
        // the same engine warm-up as the single-JVM L1, at the workers' batch and thread count: the
        // MiniCluster runs in this JVM, so the timed job starts with compiled engine code, as L1 does
        InMemoryDataset warmUpData = InMemoryDataset.fashionMnist(data, "train").head(BATCH * 150);
        TrainingWorkloads.warmUp(() -> Models.lenet5(1, Kernels.create(options.threads())), BATCH / workers, warmUpData,
                false, options);
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(TaskManagerOptions.NUM_TASK_SLOTS, workers);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(workers, conf);
        SampleSpec spec = SampleSpec.builder().feature("input", DType.FLOAT32, 1, 28, 28).classLabel(10).build();
        DecodedSamples samples = FileSamples.idx(env, data.resolve("train-images-idx3-ubyte.gz").toString(),
                data.resolve("train-labels-idx1-ubyte.gz").toString(), spec);
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

        InMemoryDataset test = InMemoryDataset.fashionMnist(data, "t10k");
        int epochSize = 60_000;
        ModelSnapshot warm = first(snapshots, 20L * BATCH);
        ModelSnapshot endOfEpoch1 = lastUpTo(snapshots, epochSize);
        ModelSnapshot last = snapshots.get(snapshots.size() - 1);
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("parallelism", workers);
        figures.put("train_img_s_epoch1_steady", rate(warm, endOfEpoch1));
        if (options.epochs() > 1) {
            figures.put("train_img_s_epochs2_3", rate(endOfEpoch1, last));
        }
        figures.put("test_acc_epoch1", accuracy(endOfEpoch1, test));
        figures.put("test_acc_epoch3", accuracy(last, test));
        figures.put("wall_s_3_epochs_train", WorkloadRunner.round(wall, 2));
        figures.put("samples_applied", last.samplesApplied());
        return figures;
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
