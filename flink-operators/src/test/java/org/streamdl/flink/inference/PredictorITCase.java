package org.streamdl.flink.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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

/** The predictor on a MiniCluster with two slots, checkpointing, and bounded input. */
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
}
