package org.streamdl.flink.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.model.Models;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.flink.connector.serialization.StreamDLTypes;
import org.junit.jupiter.api.Timeout;

/** The predictor on a MiniCluster with two slots, checkpointing, and bounded input. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)   // a stalled job fails here instead of hanging the build
class PredictorITCase {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    Path dir;

    @Test
    void everySampleIsAnsweredOnceByTheModelAndMisfitsBecomeDeadLetters() throws Exception {
        Path modelFile = dir.resolve("lenet5.sdlm");
        try (Model lenet = Models.lenet5(5, Kernels.create(1))) {
            ModelFile.write(modelFile, lenet, Map.of());
        }
        List<Sample> samples = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            samples.add(i % 50 == 7
                    ? Sample.builder().key("s" + i).feature("input", TensorValue.ofFloats(new float[10], 10)).build()
                    : PredictorTest.sample(i));
        }
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(50);
        DataStream<Sample> in = env.fromData(StreamDLTypes.SAMPLE, samples.toArray(new Sample[0])).rebalance();
        Predictor.Result scored = Predictor.fromFile(modelFile.toString(), 1, 28, 28)
                .maxBatchSize(16).maxBatchDelay(Duration.ofMillis(2)).build().predict(in);
        DataStream.Collector<Prediction> predictions = new DataStream.Collector<>();
        DataStream.Collector<DeadLetter> deadLetters = new DataStream.Collector<>();
        scored.predictions().collectAsync(predictions);
        scored.deadLetters().collectAsync(deadLetters);
        env.execute("predictor");

        Map<String, Prediction> byKey = new HashMap<>();
        try (CloseableIterator<Prediction> it = predictions.getOutput()) {
            it.forEachRemaining(p -> assertEquals(null, byKey.put(p.key(), p), "answered twice: " + p.key()));
        }
        List<DeadLetter> dead = new ArrayList<>();
        try (CloseableIterator<DeadLetter> it = deadLetters.getOutput()) {
            it.forEachRemaining(dead::add);
        }
        assertEquals(294, byKey.size());
        assertEquals(6, dead.size());
        for (DeadLetter d : dead) {
            assertTrue(d.reason().contains("[10]") && d.reason().contains("[1, 28, 28]"), d.reason());
        }
        for (int i = 0; i < 300; i += 37) {
            if (i % 50 == 7) {
                continue;
            }
            float[] want = PredictorTest.expected(modelFile, PredictorTest.sample(i));
            int best = 0;
            for (int j = 1; j < want.length; j++) {
                best = want[j] > want[best] ? j : best;
            }
            assertEquals(best, byKey.get("s" + i).predictedClass(), "sample " + i);
        }
    }

    /** Training and scoring in one job: the predictor answers with the models training sends it, as they come. */
    @Test
    void aJobScoresWithTheModelsItTrains() throws Exception {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(100);
        DataStream<org.streamdl.flink.connector.records.ModelSnapshot> models =
                org.streamdl.flink.training.DistributedTraining.of(org.streamdl.flink.training.Blobs.recipe())
                        .parallelism(2).globalBatchSize(32).epochs(3).snapshotEverySteps(20).build()
                        .train(env.fromData(StreamDLTypes.SAMPLE, org.streamdl.flink.training.Blobs.samples(1, 2000)
                                .toArray(new Sample[0])));
        List<Sample> toScore = org.streamdl.flink.training.Blobs.samples(2, 500);
        Predictor.Result scored = Predictor.fromStream(models, org.streamdl.flink.training.Blobs.FEATURES)
                .maxBatchSize(16).maxBatchDelay(Duration.ofMillis(5)).build()
                .predict(env.fromData(StreamDLTypes.SAMPLE, toScore.toArray(new Sample[0])));
        DataStream.Collector<Prediction> predictions = new DataStream.Collector<>();
        DataStream.Collector<org.streamdl.flink.connector.records.ModelSnapshot> versions = new DataStream.Collector<>();
        scored.predictions().collectAsync(predictions);
        models.collectAsync(versions);
        env.execute("train and score");

        java.util.Set<Long> trained = new java.util.HashSet<>();
        try (var it = versions.getOutput()) {
            it.forEachRemaining(m -> trained.add(m.version()));
        }
        Map<String, Prediction> byKey = new HashMap<>();
        try (CloseableIterator<Prediction> it = predictions.getOutput()) {
            it.forEachRemaining(p -> assertEquals(null, byKey.put(p.key(), p), "answered twice: " + p.key()));
        }
        assertEquals(500, byKey.size(), "every sample answered once, those before the first model after it came");
        int correct = 0;
        for (Prediction p : byKey.values()) {
            assertTrue(trained.contains(p.modelVersion()), "version " + p.modelVersion() + " is not one training sent: " + trained);
            correct += p.predictedClass() == org.streamdl.flink.training.Blobs.label(2, Long.parseLong(p.key())) ? 1 : 0;
        }
        // measured 485: the samples came before any model, waited, and were answered by the first (640 samples in)
        assertTrue(correct > 400, correct + "/500 right: the models learned (chance is 50)");
    }
}
