package org.streamdl.flink.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.data.InMemoryDataset;
import org.streamdl.dnn.losses.SoftmaxCrossEntropy;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.Models;
import org.streamdl.dnn.optim.Sgd;
import org.streamdl.dnn.train.Evaluation;
import org.streamdl.dnn.train.Trainer;
import org.streamdl.flink.connector.decode.DecodedSamples;
import org.streamdl.flink.connector.files.FileSamples;
import org.streamdl.flink.connector.formats.SampleSpec;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.tensor.DType;
import org.junit.jupiter.api.Timeout;

/**
 * The L1 recipe (LeNet-5, SGD 0.05 with momentum 0.9, batch 128, 3 epochs) on a Fashion-MNIST
 * slice, read from IDX files by a Flink source and trained by two workers, against the same recipe
 * in one JVM.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)   // a stalled job fails here instead of hanging the build
class FashionMnistTrainingITCase {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static Path resource(String name) throws Exception {
        return Path.of(FashionMnistTrainingITCase.class.getResource("/fashion-mnist-slice/" + name).toURI());
    }

    static TrainingRecipe lenet5() {
        return TrainingRecipe.of("lenet5", kernels -> Models.lenet5(42, kernels), SoftmaxCrossEntropy::new,
                state -> new Sgd(state, 0.05, 0.9));
    }

    @Test
    void twoWorkersReachTheSingleJvmAccuracyWithinHalfAPoint() throws Exception {
        Path trainImages = resource("train-images-idx3-ubyte.gz");
        Path trainLabels = resource("train-labels-idx1-ubyte.gz");
        InMemoryDataset train = InMemoryDataset.fromIdx(trainImages, trainLabels);
        InMemoryDataset test = InMemoryDataset.fromIdx(resource("t10k-images-idx3-ubyte.gz"),
                resource("t10k-labels-idx1-ubyte.gz"));

        double single;
        try (Model model = Models.lenet5(42, Kernels.create(1))) {
            Sgd sgd = new Sgd(model.allocator(), 0.05, 0.9);
            Trainer.builder(model, SoftmaxCrossEntropy::new, sgd).batchSize(128).epochs(3).seed(42).logEvery(0)
                    .build().fit(train, null);
            single = Evaluation.accuracy(model, test, 500);
        }

        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);   // one reader: the file order, dealt round-robin to the two workers
        SampleSpec spec = SampleSpec.builder().feature("input", DType.FLOAT32, 1, 28, 28).classLabel(10).build();
        DecodedSamples samples = FileSamples.idx(env, trainImages.toString(), trainLabels.toString(), spec);
        DataStream<ModelSnapshot> models = DistributedTraining.of(lenet5())
                .parallelism(2).globalBatchSize(128).epochs(3).snapshotEverySteps(0).build()
                .train(samples.samples());
        DataStream.Collector<ModelSnapshot> collector = new DataStream.Collector<>();
        models.collectAsync(collector);
        env.execute("L1 on a Fashion-MNIST slice, two workers");
        List<ModelSnapshot> out = new ArrayList<>();
        try (CloseableIterator<ModelSnapshot> it = collector.getOutput()) {
            it.forEachRemaining(out::add);
        }
        ModelSnapshot last = out.stream().max(Comparator.comparingLong(ModelSnapshot::version)).orElseThrow();
        assertEquals(3L * train.size(), last.samplesApplied());
        double distributed;
        try (Model model = ModelBytes.read(last.modelFile(), "lenet5-final", Kernels.create(1)).model()) {
            distributed = Evaluation.accuracy(model, test, 500);
        }
        assertTrue(single > 0.78, "single-JVM accuracy " + single);
        assertTrue(distributed >= single - 0.005,
                "two workers reached " + distributed + ", one JVM " + single + " (allowed: 0.5 points below)");
    }
}
