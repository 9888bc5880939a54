package org.streamdl.tensor.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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

class LinalgTest {
    private Allocator a;

    @BeforeEach
    void open() {
        a = Allocator.root("test", 64 << 20);
    }

    @AfterEach
    void close() {
        a.close();
    }

    private Tensor random(long... dims) {
        Tensor t = a.allocate(DType.FLOAT32, dims);
        RandomFill.uniform(t, -1, 1, new Rng(dims.length * 1000 + dims[0]));
        return t;
    }

    /** Naive double-precision product of row-major (m, k) and (k, n). */
    private static double[] naive(float[] x, float[] y, int m, int k, int n) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += (double) x[i * k + p] * y[p * n + j];
                }
                out[i * n + j] = s;
            }
        }
        return out;
    }

    @Test
    void multipliesASmallMatrixExactly() {
        Tensor x = Convert.fromFloats(new float[] {1, 2, 3, 4, 5, 6}, Shape.of(2, 3), a);
        Tensor y = Convert.fromFloats(new float[] {7, 8, 9, 10, 11, 12}, Shape.of(3, 2), a);
        assertArrayEquals(new float[] {58, 64, 139, 154}, Convert.toFloatArray(Linalg.matmul(x, y, a)));
    }

    @Test
    void transposedViewsAndTransposeFlagsAgree() {
        Tensor x = random(17, 31);
        Tensor w = random(13, 31);
        Tensor viaFlag = a.allocate(DType.FLOAT32, 17, 13);
        Linalg.matmulTransposeB(x, w, viaFlag);
        Tensor viaView = Linalg.matmul(x, w.transpose(0, 1), a);
        assertClose(viaView, viaFlag, Tolerance.EXACT);
        double[] expected = naive(Convert.toFloatArray(x), Convert.toFloatArray(w.transpose(0, 1)), 17, 31, 13);
        assertClose(expected, viaFlag, Tolerance.rtolAtol(1e-5, 1e-5));
        Tensor both = Linalg.matmul(x.transpose(0, 1), w, true, true, a);   // (xᵀ)ᵀ·wᵀ
        assertClose(viaFlag, both, Tolerance.EXACT);
    }

    @Test
    void accumulatesWeightGradients() {
        Tensor dy = random(8, 5);
        Tensor x = random(8, 7);
        Tensor dw = a.allocate(DType.FLOAT32, 5, 7);
        Linalg.matmulTransposeAAccumulate(dy, x, dw);
        Tensor once = Convert.to(dw, DType.FLOAT32, a);
        Linalg.matmulTransposeAAccumulate(dy, x, dw);
        assertClose(Elementwise.mulScalar(once, 2, a), dw, Tolerance.rtolAtol(1e-6, 1e-6));
        double[] expected = naive(Convert.toFloatArray(dy.transpose(0, 1)), Convert.toFloatArray(x), 5, 8, 7);
        assertClose(expected, once, Tolerance.rtolAtol(1e-5, 1e-5));
    }

    @Test
    void betaZeroIgnoresNanInTheOutput() {
        Tensor c = a.allocate(DType.FLOAT32, 2, 2);
        Elementwise.fill(c, Float.NaN);
        Tensor id = Convert.fromFloats(new float[] {1, 0, 0, 1}, Shape.of(2, 2), a);
        Tensor x = Convert.fromFloats(new float[] {1, 2, 3, 4}, Shape.of(2, 2), a);
        Linalg.matmul(x, id, false, false, 2, 0, c);
        assertArrayEquals(new float[] {2, 4, 6, 8}, Convert.toFloatArray(c));
    }

    @Test
    void batchesBroadcastTheirLeadingAxes() {
        Tensor x = random(3, 4, 5);
        Tensor w = random(5, 2);               // shared by every batch
        Tensor y = Linalg.matmul(x, w, a);
        assertEquals(Shape.of(3, 4, 2), y.shape());
        for (int i = 0; i < 3; i++) {
            double[] expected = naive(Convert.toFloatArray(x.select(0, i)), Convert.toFloatArray(w), 4, 5, 2);
            assertClose(expected, y.select(0, i), Tolerance.rtolAtol(1e-5, 1e-6));
        }
        Tensor left = random(2, 1, 3, 4);
        Tensor right = random(5, 4, 2);
        assertEquals(Shape.of(2, 5, 3, 2), Linalg.matmul(left, right, a).shape());
    }

    @Test
    void zeroSizedProductsAreEmptyOrZero() {
        assertEquals(Shape.of(0, 3), Linalg.matmul(a.allocate(DType.FLOAT32, 0, 4), random(4, 3), a).shape());
        Tensor c = Linalg.matmul(a.allocate(DType.FLOAT32, 2, 0), a.allocate(DType.FLOAT32, 0, 3), a);
        assertArrayEquals(new float[6], Convert.toFloatArray(c));
    }

    @Test
    void refusesMismatchedShapesAndDtypes() {
        IllegalArgumentException inner = assertThrows(IllegalArgumentException.class,
                () -> Linalg.matmul(random(128, 400), random(300, 120), a));
        assertEquals("matmul: inner dimensions differ: a is (128, 400) and b is (300, 120)", inner.getMessage());
        IllegalArgumentException rank = assertThrows(IllegalArgumentException.class,
                () -> Linalg.matmul(random(4), random(4, 2), a));
        assertEquals("matmul needs operands of rank 2 or more but got a (4) and b (4, 2)", rank.getMessage());
        Tensor ints = a.allocate(DType.INT32, 2, 2);
        IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                () -> Linalg.matmul(ints, ints, a));
        assertEquals("matmul supports float32, float64 and bfloat16 operands but got int32; convert with Convert.to first", dtype.getMessage());
        IllegalArgumentException out = assertThrows(IllegalArgumentException.class,
                () -> Linalg.matmul(random(2, 3), random(3, 4), a.allocate(DType.FLOAT32, 4, 2)));
        assertEquals("matmul (2, 3)·(3, 4) float32: operand c has shape (4, 2) but the plan expects (2, 4)",
                out.getMessage());
    }
}
