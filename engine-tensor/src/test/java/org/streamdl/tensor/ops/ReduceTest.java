package org.streamdl.tensor.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streamdl.tensor.testing.TensorAssertions.assertClose;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.testing.Tolerance;

class ReduceTest {
    private Allocator a;

    @BeforeEach
    void open() {
        a = Allocator.root("test", 16 << 20);
    }

    @AfterEach
    void close() {
        a.close();
    }

    private Tensor m23() {
        return Convert.fromFloats(new float[] {1, 5, 3, -4, 2, 6}, Shape.of(2, 3), a);
    }

    @Test
    void reducesRowsColumnsAndEverything() {
        Tensor x = m23();
        assertArrayEquals(new float[] {-3, 7, 9}, Convert.toFloatArray(Reduce.sum(x, a, false, 0)));
        assertArrayEquals(new float[] {9, 4}, Convert.toFloatArray(Reduce.sum(x, a, false, 1)));
        assertArrayEquals(new float[] {3, 4f / 3}, Convert.toFloatArray(Reduce.mean(x, a, false, -1)));
        assertArrayEquals(new float[] {1, 5, 6}, Convert.toFloatArray(Reduce.max(x, a, false, 0)));
        assertArrayEquals(new float[] {1, -4}, Convert.toFloatArray(Reduce.min(x, a, false, 1)));
        Tensor all = Reduce.sum(x, a, false);
        assertEquals(Shape.scalar(), all.shape());
        assertEquals(13f, all.getFloat());
        assertEquals(13.0, Reduce.sumAll(x));
        assertEquals(6.0, Reduce.maxAll(x));
    }

    @Test
    void keepDimsLeavesUnitAxes() {
        Tensor x = a.allocate(DType.FLOAT32, 2, 3, 4);
        assertEquals(Shape.of(2, 1, 4), Reduce.sum(x, a, true, 1).shape());
        assertEquals(Shape.of(1, 3, 1), Reduce.mean(x, a, true, 0, 2).shape());
        assertEquals(Shape.of(1, 1, 1), Reduce.max(x, a, true).shape());
        assertEquals(Shape.of(3), Reduce.min(x, a, false, -1, 0).shape());
        assertEquals(Shape.of(2, 1, 4), Reduce.argmax(x, 1, true, a).shape());
    }

    @Test
    void everyAxisSubsetOfA3dTensorMatchesANaiveLoop() {
        Rng rng = new Rng(7);
        Tensor x = a.allocate(DType.FLOAT32, 3, 4, 5);
        RandomFill.normal(x, 0, 1, rng);
        double[] v = Convert.toDoubleArray(x);
        int[][] subsets = {{0}, {1}, {2}, {0, 1}, {0, 2}, {1, 2}, {0, 1, 2}};
        for (int[] axes : subsets) {
            boolean[] r = new boolean[3];
            for (int ax : axes) {
                r[ax] = true;
            }
            int d0 = r[0] ? 1 : 3, d1 = r[1] ? 1 : 4, d2 = r[2] ? 1 : 5;
            double[] sum = new double[d0 * d1 * d2];
            double[] max = new double[sum.length];
            java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 4; j++) {
                    for (int k = 0; k < 5; k++) {
                        int o = ((r[0] ? 0 : i) * d1 + (r[1] ? 0 : j)) * d2 + (r[2] ? 0 : k);
                        double e = v[(i * 4 + j) * 5 + k];
                        sum[o] += e;
                        max[o] = Math.max(max[o], e);
                    }
                }
            }
            double[] sumF = new double[sum.length];
            for (int i = 0; i < sum.length; i++) {
                sumF[i] = (float) sum[i];
            }
            assertClose(sumF, Reduce.sum(x, a, false, axes), Tolerance.EXACT);
            assertClose(max, Reduce.max(x, a, false, axes), Tolerance.EXACT);
            // the same through a non-contiguous view of the same values
            Tensor permuted = x.permute(2, 0, 1).contiguous(a).permute(1, 2, 0);
            assertClose(sumF, Reduce.sum(permuted, a, false, axes), Tolerance.EXACT);
        }
    }

    @Test
    void argmaxAndArgminTakeTheFirstOfTies() {
        Tensor x = Convert.fromFloats(new float[] {3, 7, 7, 1, 1, 0}, Shape.of(2, 3), a);
        assertArrayEquals(new int[] {1, 0}, Convert.toIntArray(Reduce.argmax(x, 1, false, a)));
        assertArrayEquals(new int[] {0, 2}, Convert.toIntArray(Reduce.argmin(x, 1, false, a)));
        assertArrayEquals(new int[] {0, 0, 0}, Convert.toIntArray(Reduce.argmax(x, 0, false, a)));
        assertArrayEquals(new int[] {1, 0}, Convert.toIntArray(Reduce.argmax(x.transpose(0, 1), 0, false, a)));
        assertEquals(DType.INT32, Reduce.argmax(x, 1, false, a).dtype());
    }

    @Test
    void nanPropagates() {
        Tensor x = Convert.fromFloats(new float[] {1, Float.NaN, 3, 4}, Shape.of(2, 2), a);
        float[] max = Convert.toFloatArray(Reduce.max(x, a, false, 1));
        assertTrue(Float.isNaN(max[0]));
        assertEquals(4f, max[1]);
        assertTrue(Float.isNaN(Convert.toFloatArray(Reduce.sum(x, a, false, 0))[1]));
        assertArrayEquals(new int[] {1, 1}, Convert.toIntArray(Reduce.argmax(x, 1, false, a)));
        assertArrayEquals(new int[] {1, 0}, Convert.toIntArray(Reduce.argmin(x, 1, false, a)));
    }

    @Test
    void emptyAxes() {
        Tensor e = a.allocate(DType.FLOAT32, 2, 0);
        assertArrayEquals(new float[] {0, 0}, Convert.toFloatArray(Reduce.sum(e, a, false, 1)));
        float[] mean = Convert.toFloatArray(Reduce.mean(e, a, false, 1));
        assertTrue(Float.isNaN(mean[0]) && Float.isNaN(mean[1]));
        IllegalArgumentException max = assertThrows(IllegalArgumentException.class, () -> Reduce.max(e, a, false, 1));
        assertEquals("max over axis 1 of (2, 0): the axis is empty, so there is no extreme", max.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Reduce.argmax(e, 1, false, a));
        assertEquals(Shape.of(0), Reduce.sum(e, a, false, 0).shape());
    }

    @Test
    void integerDtypesFollowTheResultTypeRules() {
        Tensor b = Convert.fromBytes(new byte[] {100, 100, 100, -7}, false, Shape.of(4), a);
        Tensor sum = Reduce.sum(b, a, false);
        assertEquals(DType.INT32, sum.dtype());
        assertEquals(293, sum.getDouble());
        Tensor mean = Reduce.mean(b, a, false);
        assertEquals(DType.FLOAT32, mean.dtype());
        assertEquals(73.25f, mean.getFloat());
        assertEquals(DType.INT8, Reduce.max(b, a, false).dtype());
        assertEquals(-7, Reduce.min(b, a, false).getDouble());
    }

    @Test
    void sumIntoAccumulatesForBiasGradients() {
        Tensor dy = m23();
        Tensor db = Convert.fromFloats(new float[] {10, 10, 10}, Shape.of(3), a);
        Reduce.sumInto(dy, db, true, 0);
        Reduce.sumInto(dy, db, true, 0);
        assertArrayEquals(new float[] {4, 24, 28}, Convert.toFloatArray(db));
        Tensor kept = a.allocate(DType.FLOAT32, 1, 3);
        Reduce.sumInto(dy, kept, false, 0);
        assertArrayEquals(new float[] {-3, 7, 9}, Convert.toFloatArray(kept));
        Tensor wrong = a.allocate(DType.FLOAT32, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Reduce.sumInto(dy, wrong, false, 0));
        assertEquals("sum over axes [0] of (2, 3): out has shape (2) but the result is (3) (or (1, 3) with kept axes)",
                e.getMessage());
    }

    @Test
    void refusesBadAxes() {
        Tensor x = m23();
        IllegalArgumentException range = assertThrows(IllegalArgumentException.class, () -> Reduce.sum(x, a, false, 3));
        assertEquals("sum: axis 3 is out of range for shape (2, 3)", range.getMessage());
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
                () -> Reduce.sum(x, a, false, 1, -1));
        assertEquals("sum: axis 1 is given twice in [1, -1]", twice.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Reduce.argmax(x, -3, false, a));
    }
}
