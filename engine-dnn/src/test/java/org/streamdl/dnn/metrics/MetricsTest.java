package org.streamdl.dnn.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.ops.Convert;

class MetricsTest {

    @Test
    void accuracyTopKLossAndConfusion() {
        try (Allocator a = Allocator.root("test", 1 << 16)) {
            ClassificationMetrics m = new ClassificationMetrics(3, 2);
            m.update(Convert.fromFloats(new float[] {
                    0.9f, 0.05f, 0.05f,     // true 0, predicted 0
                    0.2f, 0.3f, 0.5f,       // true 1, predicted 2, true class second: in top 2
                    0.1f, 0.7f, 0.2f,       // true 0, predicted 1, true class last
                    0.3f, 0.3f, 0.4f},      // true 2, predicted 2
                    Shape.of(4, 3), a), Convert.fromInts(new int[] {0, 1, 0, 2}, Shape.of(4), a));
            m.updateLoss(0.5, 4);
            m.updateLoss(1.0, 1);
            assertEquals(0.5, m.accuracy());
            assertEquals(0.75, m.topKAccuracy());
            assertEquals(0.6, m.meanLoss(), 1e-12);
            assertArrayEquals(new long[] {1, 1, 0}, m.confusionMatrix()[0]);
            assertArrayEquals(new long[] {0, 0, 1}, m.confusionMatrix()[1]);
            assertArrayEquals(new long[] {0, 0, 1}, m.confusionMatrix()[2]);
        }
    }

    @Test
    void rocAucCountsOrderedPairsAndHalfTies() {
        assertEquals(1.0, RocAuc.of(new double[] {0.1, 0.2, 0.8, 0.9}, new boolean[] {false, false, true, true}));
        assertEquals(0.0, RocAuc.of(new double[] {0.9, 0.8, 0.2, 0.1}, new boolean[] {false, false, true, true}));
        // pairs (pos, neg): (0.35 > 0.1) (0.35 < 0.4) (0.8 > 0.1) (0.8 > 0.4) → 3 of 4
        assertEquals(0.75, RocAuc.of(new double[] {0.1, 0.4, 0.35, 0.8}, new boolean[] {false, false, true, true}));
        assertEquals(0.5, RocAuc.of(new double[] {0.5, 0.5}, new boolean[] {true, false}));
        assertThrows(IllegalArgumentException.class, () -> RocAuc.of(new double[] {1, 2}, new boolean[] {true, true}));
    }
}
