package org.streamdl.flink.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.streaming.util.TwoInputStreamOperatorTestHarness;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.model.Models;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/** The predictor fed by a model stream: waiting for the first model, hot swap, refusals, restore. */
class StreamPredictorTest {
    private static ModelSnapshot v1;
    private static ModelSnapshot v2;

    @BeforeAll
    static void models() throws Exception {
        v1 = snapshot(1, 11);
        v2 = snapshot(2, 22);
    }

    private static ModelSnapshot snapshot(long version, long seed) throws Exception {
        try (Model lenet = Models.lenet5(seed, Kernels.create(1))) {
            return new ModelSnapshot("lenet5", version, 0, 0, ModelFile.toBytes(lenet, Map.of(), Map.of()));
        }
    }

    /** What {@code snapshot}'s model answers for {@code sample}. */
    private static float[] answer(ModelSnapshot snapshot, Sample sample) throws Exception {
        try (Model model = org.streamdl.flink.training.ModelBytes.read(snapshot.modelFile(), "m", Kernels.create(1)).model();
             Allocator a = Allocator.root("x", 1 << 20)) {
            Tensor x = sample.singleFeature().reshape(1, 1, 28, 28).toTensor(a);
            return Convert.toFloatArray(model.predict(x, a));
        }
    }

    private static org.apache.flink.streaming.api.datastream.DataStream<ModelSnapshot> modelStream() {
        return org.apache.flink.streaming.api.environment.StreamExecutionEnvironment.getExecutionEnvironment()
                .fromData(org.streamdl.flink.connector.serialization.StreamDLTypes.MODEL_SNAPSHOT, v1);
    }

    private static TwoInputStreamOperatorTestHarness<Sample, ModelSnapshot, Prediction> harness(int maxBatch) throws Exception {
        return new TwoInputStreamOperatorTestHarness<>(Predictor.fromStream(modelStream(), 1, 28, 28)
                .maxBatchSize(maxBatch).maxBatchDelay(Duration.ofHours(1)).build().streamOperator());
    }

    private static List<Prediction> predictions(TwoInputStreamOperatorTestHarness<Sample, ModelSnapshot, Prediction> h) {
        List<Prediction> out = new ArrayList<>();
        for (Object o : h.getOutput()) {
            if (o instanceof StreamRecord<?> r && r.getValue() instanceof Prediction p) {
                out.add(p);
            }
        }
        return out;
    }

    private static void assertAnsweredBy(ModelSnapshot model, Prediction p, Sample s) throws Exception {
        assertEquals(model.version(), p.modelVersion(), p.key());
        float[] want = answer(model, s);
        float[] got = p.outputs().get("output").toFloats();
        for (int j = 0; j < want.length; j++) {
            assertEquals(want[j], got[j], 1e-5f * Math.max(1, Math.abs(want[j])), p.key() + " output " + j);
        }
    }

    @Test
    void samplesWaitForTheFirstModelThenANewerOneTakesOverBetweenBatches() throws Exception {
        try (var h = harness(4)) {
            h.open();
            h.setProcessingTime(100);
            for (int i = 0; i < 3; i++) {
                h.processElement1(new StreamRecord<>(PredictorTest.sample(i)));
            }
            assertEquals(0, predictions(h).size(), "no model yet");
            h.setProcessingTime(250);
            h.processElement2(new StreamRecord<>(v1));
            h.processElement1(new StreamRecord<>(PredictorTest.sample(3)));   // fills the batch of 4
            assertEquals(4, predictions(h).size());
            h.processElement1(new StreamRecord<>(PredictorTest.sample(4)));
            h.processElement1(new StreamRecord<>(PredictorTest.sample(5)));
            h.processElement2(new StreamRecord<>(v2));   // the open batch is answered by v1 first
            h.processElement1(new StreamRecord<>(PredictorTest.sample(6)));
            h.processElement2(new StreamRecord<>(v1));   // an older version changes nothing
            h.prepareSnapshotPreBarrier(1);
            List<Prediction> out = predictions(h);
            assertEquals(7, out.size());
            assertEquals(150, out.get(0).latencyMillis(), "the wait for the first model counts in the latency");
            for (int i = 0; i < 7; i++) {
                assertEquals("s" + i, out.get(i).key());
                assertAnsweredBy(i < 6 ? v1 : v2, out.get(i), PredictorTest.sample(i));
            }
        }
    }

    @Test
    void aModelThatCannotTakeTheSamplesIsRefusedAndTheCurrentOneStays() throws Exception {
        ModelSnapshot garbage = new ModelSnapshot("lenet5", 3, 0, 0, new byte[] {1, 2, 3});
        ModelSnapshot wrongShape;
        try (Allocator a = Allocator.root("tiny", 1 << 20)) {
            org.streamdl.dnn.ParameterFactory p = new org.streamdl.dnn.ParameterFactory(a, 1);
            Model tiny = new Model(org.streamdl.dnn.layers.Sequential.of("tiny", new org.streamdl.dnn.layers.Flatten("f"),
                    new org.streamdl.dnn.layers.Linear(p, "fc", 100, 10)), a, Kernels.create(1));
            wrongShape = new ModelSnapshot("tiny", 4, 0, 0, ModelFile.toBytes(tiny, Map.of(), Map.of()));
            tiny.kernels().close();
        }
        ModelSnapshot mlp;
        try (Model m = Models.mlp(1, Kernels.create(1))) {   // flattens images to 784: it fits
            mlp = new ModelSnapshot("mlp", 5, 0, 0, ModelFile.toBytes(m, Map.of(), Map.of()));
        }
        try (var h = harness(1)) {
            h.open();
            h.processElement2(new StreamRecord<>(v1));
            h.processElement2(new StreamRecord<>(garbage));
            h.processElement2(new StreamRecord<>(wrongShape));
            h.processElement1(new StreamRecord<>(PredictorTest.sample(0)));
            assertAnsweredBy(v1, predictions(h).get(0), PredictorTest.sample(0));
            h.processElement2(new StreamRecord<>(mlp));   // a good newer model is still taken after refusals
            h.processElement1(new StreamRecord<>(PredictorTest.sample(1)));
            assertAnsweredBy(mlp, predictions(h).get(1), PredictorTest.sample(1));
        }
    }

    @Test
    void aRestoredPredictorKeepsItsModelAndTheSamplesThatWereWaiting() throws Exception {
        OperatorSubtaskState waitingForModel;
        try (var h = harness(8)) {
            h.open();
            h.processElement1(new StreamRecord<>(PredictorTest.sample(0)));
            h.processElement1(new StreamRecord<>(PredictorTest.sample(1)));
            waitingForModel = h.snapshot(1, 1);
        }
        OperatorSubtaskState withModel;
        try (var h = harness(8)) {
            h.initializeState(waitingForModel);
            h.open();
            h.processElement2(new StreamRecord<>(v2));
            h.prepareSnapshotPreBarrier(2);
            List<Prediction> out = predictions(h);
            assertEquals(List.of("s0", "s1"), out.stream().map(Prediction::key).toList());
            assertAnsweredBy(v2, out.get(1), PredictorTest.sample(1));
            withModel = h.snapshot(2, 2);
        }
        try (var h = harness(1)) {
            h.initializeState(withModel);
            h.open();
            h.processElement1(new StreamRecord<>(PredictorTest.sample(5)));   // no model sent again
            assertAnsweredBy(v2, predictions(h).get(0), PredictorTest.sample(5));
        }
    }

    @Test
    void samplesStillWaitingWhenTheInputEndsBecomeDeadLetters() throws Exception {
        try (var h = harness(4)) {
            h.open();
            h.processElement1(new StreamRecord<>(PredictorTest.sample(0)));
            h.processElement1(new StreamRecord<>(PredictorTest.sample(1)));
            h.endInput1();
            h.endInput2();
            h.getOperator().finish();
            var dead = h.getSideOutput(BatchingPredictorOperator.DEAD_LETTERS);
            assertEquals(2, dead.size());
            assertEquals("sample 's0': the input ended before any model arrived", dead.peek().getValue().reason());
            assertEquals(0, predictions(h).size());
        }
    }

    @Test
    void aStreamedPredictorTakesNoFixedVersion() {
        assertThrows(IllegalArgumentException.class,
                () -> Predictor.fromStream(modelStream(), 1, 28, 28).modelVersion(3).build());
        assertArrayEquals(new long[] {1, 28, 28}, Predictor.fromStream(modelStream(), 1, 28, 28).build()
                .streamOperator().featureShape);
    }
}
