package org.streamdl.flink.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.checkpoint.OperatorSubtaskState;
import org.apache.flink.streaming.util.KeyedOneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.Model;
import org.streamdl.tensor.Rng;

/** The parameter shard in Flink's keyed operator harness: averaging, refusals, snapshot and restore. */
class ParameterShardOperatorTest {
    private static final int WORKERS = 2;
    private static final int SLICES = 2;
    private static final int MAX_PARALLELISM = 128;
    private static final int[] KEYS = ParameterLayout.balancedKeys(SLICES, 1, MAX_PARALLELISM);

    private static KeyedOneInputStreamOperatorTestHarness<Integer, GradientSlice, WeightSlice> harness() throws Exception {
        return new KeyedOneInputStreamOperatorTestHarness<>(new ParameterShardOperator(Blobs.recipe(), WORKERS, KEYS),
                new DistributedTraining.SliceKey(KEYS), Types.INT, MAX_PARALLELISM, 1, 0);
    }

    private static int sliceLength(int slice) {
        try (Kernels kernels = Kernels.create(1, Kernels.Preference.REFERENCE); Model m = Blobs.mlp(kernels)) {
            return new ParameterLayout(m.parameters(), SLICES).sliceLength(slice);
        }
    }

    /** Steps 1..6 from both workers for both slices; worker 1 idles at step 5, both finish at step 6. */
    private static List<GradientSlice> contributions() {
        List<GradientSlice> out = new ArrayList<>();
        Rng rng = new Rng(5);
        for (int step = 1; step <= 6; step++) {
            for (int worker = 0; worker < WORKERS; worker++) {
                for (int slice = 0; slice < SLICES; slice++) {
                    int samples = step == 5 && worker == 1 || step == 6 ? 0 : 16;
                    float[] sum = new float[sliceLength(slice)];
                    for (int i = 0; i < sum.length && samples > 0; i++) {
                        sum[i] = (float) rng.nextGaussian() * samples;
                    }
                    out.add(new GradientSlice(step, slice, worker, samples, samples * 0.5, step == 6, sum));
                }
            }
        }
        return out;
    }

    @Test
    void emitsEachSliceOncePerStepWithSamplesCountedAndTheLastMarked() throws Exception {
        try (var h = harness()) {
            h.open();
            for (GradientSlice g : contributions()) {
                h.processElement(g, 0);
            }
            List<WeightSlice> out = h.extractOutputValues();
            assertEquals(6 * SLICES, out.size());
            WeightSlice last = out.get(out.size() - 1);
            assertTrue(last.last());
            assertEquals(6, last.version());
            assertEquals(16 * 2 * 4 + 16, last.samplesApplied(), "steps 1-4 have 32 samples, step 5 has 16, step 6 none");
            assertEquals(0.5, out.get(0).meanLoss(), 1e-12);
            assertTrue(Double.isNaN(last.meanLoss()), "a step without samples has no loss");
            for (WeightSlice w : out) {
                assertEquals(w.version() == 6, w.last(), w.toString());
            }
        }
    }

    @Test
    void restoredShardContinuesExactlyLikeAnUninterruptedOne() throws Exception {
        List<GradientSlice> all = contributions();
        List<WeightSlice> uninterrupted;
        try (var h = harness()) {
            h.open();
            for (GradientSlice g : all) {
                h.processElement(g, 0);
            }
            uninterrupted = h.extractOutputValues();
        }
        int cut = 3 * WORKERS * SLICES + 1;     // steps 1-3 and one contribution to step 4 pending
        List<WeightSlice> resumed = new ArrayList<>();
        OperatorSubtaskState snapshot;
        try (var h = harness()) {
            h.open();
            for (GradientSlice g : all.subList(0, cut)) {
                h.processElement(g, 0);
            }
            snapshot = h.snapshot(1, 1);
            resumed.addAll(h.extractOutputValues());
        }
        try (var h = harness()) {
            h.initializeState(snapshot);
            h.open();
            for (GradientSlice g : all.subList(cut, all.size())) {
                h.processElement(g, 0);
            }
            resumed.addAll(h.extractOutputValues());
        }
        assertEquals(uninterrupted, resumed);
    }

    @Test
    void refusesAContributionDeliveredTwice() throws Exception {
        GradientSlice g = contributions().get(0);
        try (var h = harness()) {
            h.open();
            h.processElement(g, 0);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> h.processElement(g, 0));
            assertTrue(e.getMessage().contains("worker 0 contributed twice to step 1"), e.getMessage());
        }
    }

    @Test
    void refusesASliceOfTheWrongLength() throws Exception {
        try (var h = harness()) {
            h.open();
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> h.processElement(new GradientSlice(1, 0, 0, 1, 0, false, new float[3]), 0));
            assertTrue(e.getMessage().contains("got 3 values"), e.getMessage());
        }
    }
}
