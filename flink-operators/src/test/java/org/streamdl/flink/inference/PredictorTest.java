package org.streamdl.flink.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.model.Models;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

class PredictorTest {
    private static final long[] IMAGE = {1, 28, 28};

    @TempDir
    Path dir;
    private Path modelFile;

    @BeforeEach
    void writeModel() throws Exception {
        modelFile = dir.resolve("lenet5.sdlm");
        try (Model lenet = Models.lenet5(3, Kernels.create(1))) {
            ModelFile.write(modelFile, lenet, Map.of("training.version", "17"));
        }
    }

    static Sample sample(int i) {
        Rng rng = new Rng(100 + i);
        float[] pixels = new float[28 * 28];
        for (int p = 0; p < pixels.length; p++) {
            pixels[p] = rng.nextFloat();
        }
        return Sample.builder().key("s" + i).feature("input", TensorValue.ofFloats(pixels, IMAGE)).eventTime(1000 + i).build();
    }

    /** What the model itself answers for one sample. */
    static float[] expected(Path modelFile, Sample s) throws Exception {
        try (Model model = ModelFile.read(modelFile, Kernels.create(1)).model(); Allocator a = Allocator.root("x", 1 << 20)) {
            Tensor x = s.singleFeature().reshape(1, 1, 28, 28).toTensor(a);
            return Convert.toFloatArray(model.predict(x, a));
        }
    }

    private OneInputStreamOperatorTestHarness<Sample, Prediction> harness(int maxBatch, long delayMillis) throws Exception {
        Predictor p = Predictor.fromFile(modelFile.toString(), IMAGE).maxBatchSize(maxBatch)
                .maxBatchDelay(Duration.ofMillis(delayMillis)).build();   // the version comes from the file: 17
        var h = new OneInputStreamOperatorTestHarness<>(p.fileOperator());
        h.open();
        return h;
    }

    private static List<Prediction> predictions(OneInputStreamOperatorTestHarness<Sample, Prediction> h) {
        List<Prediction> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r && r.getValue() instanceof Prediction p) {
                out.add(p);
            }
        }
        return out;
    }

    @Test
    void fullBatchesAreScoredAtOnceAndTheRestBeforeTheCheckpointBarrier() throws Exception {
        try (var h = harness(4, 60_000)) {
            for (int i = 0; i < 10; i++) {
                h.processElement(new StreamRecord<>(sample(i)));
            }
            assertEquals(8, predictions(h).size(), "two full batches of 4; two samples wait for more");
            h.prepareSnapshotPreBarrier(1);
            List<Prediction> all = predictions(h);
            assertEquals(10, all.size(), "the open batch is answered before the barrier");
            for (int i = 0; i < 10; i++) {
                Prediction p = all.get(i);
                assertEquals("s" + i, p.key());
                assertEquals(17, p.modelVersion());
                assertEquals(1000 + i, p.eventTime());
                float[] want = expected(modelFile, sample(i));
                float[] got = p.outputs().get("output").toFloats();
                int best = 0;
                for (int j = 0; j < want.length; j++) {
                    assertEquals(want[j], got[j], 1e-5f * Math.max(1, Math.abs(want[j])), "sample " + i + " output " + j);
                    best = want[j] > want[best] ? j : best;
                }
                assertEquals(best, p.predictedClass());
                assertEquals(got[best], p.score());
            }
        }
    }

    @Test
    void aBatchThatDoesNotFillIsScoredWhenItsOldestSampleHasWaitedTheDelay() throws Exception {
        try (var h = harness(100, 5)) {
            h.setProcessingTime(0);
            for (int i = 0; i < 3; i++) {
                h.processElement(new StreamRecord<>(sample(i)));
            }
            h.setProcessingTime(4);
            assertEquals(0, predictions(h).size());
            h.setProcessingTime(5);
            List<Prediction> out = predictions(h);
            assertEquals(3, out.size());
            assertEquals(0, out.get(0).receivedAt());
            assertEquals(5, out.get(0).predictedAt());
        }
    }

    @Test
    void aSampleOfAnotherShapeBecomesADeadLetterWithItsReason() throws Exception {
        try (var h = harness(2, 0)) {
            Sample wrong = Sample.builder().key("odd").feature("input", TensorValue.ofFloats(new float[784], 784)).build();
            h.processElement(new StreamRecord<>(wrong));
            h.processElement(new StreamRecord<>(sample(1)));
            assertEquals(1, predictions(h).size(), "with no delay each sample is answered at once");
            var dead = h.getSideOutput(BatchingPredictorOperator.DEAD_LETTERS);
            assertEquals(1, dead.size());
            DeadLetter letter = dead.peek().getValue();
            assertTrue(letter.reason().contains("'odd'") && letter.reason().contains("[784]")
                    && letter.reason().contains("[1, 28, 28]"), letter.reason());
        }
    }

    @Test
    void aBadModelFileOrAShapeTheModelCannotTakeIsRefusedWhenTheJobIsBuilt() throws Exception {
        Path garbage = Files.write(dir.resolve("garbage.sdlm"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
        String bad = assertThrows(IllegalArgumentException.class,
                () -> Predictor.fromFile(garbage.toString(), IMAGE).build()).getMessage();
        assertTrue(bad.contains("garbage"), bad);
        String missing = assertThrows(IllegalArgumentException.class,
                () -> Predictor.fromFile(dir.resolve("none.sdlm").toString(), IMAGE).build()).getMessage();
        assertTrue(missing.contains("none.sdlm"), missing);
        String shape = assertThrows(IllegalArgumentException.class,
                () -> Predictor.fromFile(modelFile.toString(), 3, 32, 32).build()).getMessage();
        assertTrue(shape.contains("lenet5.sdlm") && shape.contains("[3, 32, 32]"), shape);
        assertThrows(IllegalArgumentException.class, () -> Predictor.fromFile(modelFile.toString(), IMAGE).maxBatchSize(0));
    }
}
