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
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.testing.Tolerance;

class ElementwiseTest {
    private Allocator a;

    @BeforeEach
    void open() {
        a = Allocator.root("test", 16 << 20);
    }

    @AfterEach
    void close() {
        a.close();
    }

    private Tensor f(Shape shape, float... values) {
        return Convert.fromFloats(values, shape, a);
    }

    private Tensor iota(long... dims) {
        Shape s = Shape.of(dims);
        float[] v = new float[(int) s.elementCount()];
        for (int i = 0; i < v.length; i++) {
            v[i] = i + 1;
        }
        return f(s, v);
    }

    @Test
    void arithmeticOnSameShapes() {
        Tensor x = f(Shape.of(2, 2), 1, 2, 3, 4);
        Tensor y = f(Shape.of(2, 2), 10, 20, 30, 40);
        assertArrayEquals(new float[] {11, 22, 33, 44}, Convert.toFloatArray(Elementwise.add(x, y, a)));
        assertArrayEquals(new float[] {9, 18, 27, 36}, Convert.toFloatArray(Elementwise.sub(y, x, a)));
        assertArrayEquals(new float[] {10, 40, 90, 160}, Convert.toFloatArray(Elementwise.mul(x, y, a)));
        assertArrayEquals(new float[] {10, 10, 10, 10}, Convert.toFloatArray(Elementwise.div(y, x, a)));
        assertArrayEquals(new float[] {10, 20, 30, 40}, Convert.toFloatArray(Elementwise.max(x, y, a)));
        assertArrayEquals(new float[] {1, 2, 3, 4}, Convert.toFloatArray(Elementwise.min(x, y, a)));
    }

    @Test
    void broadcastsRowsColumnsScalarsAndLeadingAxes() {
        Tensor m = iota(2, 3);                                  // 1..6
        Tensor row = f(Shape.of(3), 10, 20, 30);
        Tensor col = f(Shape.of(2, 1), 100, 200);
        Tensor scalar = f(Shape.scalar(), 0.5f);
        assertArrayEquals(new float[] {11, 22, 33, 14, 25, 36}, Convert.toFloatArray(Elementwise.add(m, row, a)));
        assertArrayEquals(new float[] {101, 102, 103, 204, 205, 206}, Convert.toFloatArray(Elementwise.add(col, m, a)));
        assertArrayEquals(new float[] {.5f, 1, 1.5f, 2, 2.5f, 3}, Convert.toFloatArray(Elementwise.mul(m, scalar, a)));
        Tensor outer = Elementwise.mul(col, row, a);             // (2, 1) x (3) -> (2, 3)
        assertEquals(Shape.of(2, 3), outer.shape());
        assertArrayEquals(new float[] {1000, 2000, 3000, 2000, 4000, 6000}, Convert.toFloatArray(outer));
        Tensor batch = Elementwise.add(iota(4, 2, 3), m, a);     // leading axis
        assertEquals(Shape.of(4, 2, 3), batch.shape());
        assertEquals(18 + 6, batch.getFloat(2, 1, 2));
    }

    @Test
    void broadcastsZeroSizeAxesToEmptyResults() {
        Tensor empty = a.allocate(DType.FLOAT32, 0, 3);
        Tensor sum = Elementwise.add(empty, f(Shape.of(3), 1, 2, 3), a);
        assertEquals(Shape.of(0, 3), sum.shape());
        assertEquals(0, Convert.toFloatArray(sum).length);
    }

    @Test
    void refusesShapesThatDoNotBroadcastNamingTheOp() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Elementwise.add(iota(2, 3), iota(4), a));
        assertEquals("add: shapes (2, 3) and (4) do not broadcast: axis 1 from the end is 3 in one and 4 in the other",
                e.getMessage());
    }

    @Test
    void refusesAnOutOfTheWrongShapeOrDtype() {
        Tensor out = a.allocate(DType.FLOAT32, 3, 2);
        IllegalArgumentException shape = assertThrows(IllegalArgumentException.class,
                () -> Elementwise.mul(iota(2, 3), iota(3), out));
        assertEquals("mul: out has shape (3, 2) but the result has shape (2, 3)", shape.getMessage());
        IllegalArgumentException dtype = assertThrows(IllegalArgumentException.class,
                () -> Elementwise.relu(iota(3), a.allocate(DType.INT32, 3)));
        assertEquals("relu: out has dtype int32 but the result is float32", dtype.getMessage());
    }

    @Test
    void refusesMixedDtypesAndFloatOnlyOpsOnIntegers() {
        Tensor ints = Convert.fromInts(new int[] {1, 2}, Shape.of(2), a);
        IllegalArgumentException mixed = assertThrows(IllegalArgumentException.class,
                () -> Elementwise.add(iota(2), ints, a));
        assertEquals("add: dtype mismatch: float32 and int32; convert one with Convert.to first", mixed.getMessage());
        IllegalArgumentException exp = assertThrows(IllegalArgumentException.class, () -> Elementwise.exp(ints, a));
        assertEquals("exp needs a floating-point dtype (float32 or bfloat16) but got int32; convert with Convert.to first",
                exp.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Elementwise.div(ints, ints, a));
    }

    @Test
    void nonContiguousInputsGiveTheSameResultsAsContiguousCopies() {
        Tensor base = iota(4, 6);
        Tensor strided = base.transpose(0, 1).slice(0, 1, 6, 2);   // (3, 4), strides (2, 6)
        Tensor copy = strided.contiguous(a);
        Tensor other = iota(3, 4);
        assertArrayEquals(Convert.toFloatArray(Elementwise.mul(copy, other, a)),
                Convert.toFloatArray(Elementwise.mul(strided, other, a)));
        assertArrayEquals(Convert.toFloatArray(Elementwise.exp(copy, a)),
                Convert.toFloatArray(Elementwise.exp(strided, a)));
        Tensor expanded = f(Shape.of(4), 1, 2, 3, 4).expand(Shape.of(3, 4));
        assertArrayEquals(Convert.toFloatArray(Elementwise.sub(other, expanded.contiguous(a), a)),
                Convert.toFloatArray(Elementwise.sub(other, expanded, a)));
    }

    @Test
    void writesIntoANonContiguousOut() {
        Tensor out = a.allocate(DType.FLOAT32, 3, 2);
        Elementwise.add(iota(2, 3), iota(3), out.transpose(0, 1));
        assertArrayEquals(new float[] {2, 5, 4, 7, 6, 9}, Convert.toFloatArray(out));
    }

    @Test
    void worksInPlace() {
        Tensor x = iota(2, 3);
        Elementwise.mulScalar(x, 2, x);
        Elementwise.add(x, f(Shape.of(3), 1, 1, 1), x);
        assertArrayEquals(new float[] {3, 5, 7, 9, 11, 13}, Convert.toFloatArray(x));
    }

    @Test
    void refusesAnOutThatOverlapsAnInputWithAnotherLayout() {
        Tensor square = iota(2, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Elementwise.neg(square.transpose(0, 1), square));
        assertEquals("neg: out shares memory with an input but not its layout; write into a separate tensor",
                e.getMessage());
    }

    @Test
    void unaryMathMatchesJavaMath() {
        float[] in = {-3f, -0.5f, 0f, 0.25f, 2f, 7f};
        Tensor x = f(Shape.of(6), in);
        Tolerance tight = Tolerance.rtolAtol(1e-7, 0);
        double[] exp = new double[6], tanh = new double[6], sig = new double[6], relu = new double[6], abs = new double[6];
        for (int i = 0; i < 6; i++) {
            exp[i] = (float) Math.exp(in[i]);
            tanh[i] = (float) Math.tanh(in[i]);
            sig[i] = (float) (1 / (1 + Math.exp(-in[i])));
            relu[i] = Math.max(in[i], 0);
            abs[i] = Math.abs(in[i]);
        }
        assertClose(exp, Elementwise.exp(x, a), tight);
        assertClose(tanh, Elementwise.tanh(x, a), tight);
        assertClose(sig, Elementwise.sigmoid(x, a), tight);
        assertClose(relu, Elementwise.relu(x, a), Tolerance.EXACT);
        assertClose(abs, Elementwise.abs(x, a), Tolerance.EXACT);
        Tensor pos = f(Shape.of(3), 1, 4, 9);
        assertArrayEquals(new float[] {1, 2, 3}, Convert.toFloatArray(Elementwise.sqrt(pos, a)));
        assertClose(new double[] {0, Math.log(4f), Math.log(9f)}, Elementwise.log(pos, a), Tolerance.rtolAtol(1e-7, 1e-12));
        assertArrayEquals(new float[] {-1, -4, -9}, Convert.toFloatArray(Elementwise.neg(pos, a)));
    }

    @Test
    void sigmoidIsStableAtTheExtremes() {
        Tensor x = f(Shape.of(4), -1000f, -100f, 100f, 1000f);
        float[] s = Convert.toFloatArray(Elementwise.sigmoid(x, a));
        assertEquals(0f, s[0]);
        assertEquals((float) Math.exp(-100), s[1]);
        assertEquals(1f, s[2]);
        assertEquals(1f, s[3]);
    }

    @Test
    void nanPropagatesThroughMaxMinReluAndClamp() {
        Tensor x = f(Shape.of(3), Float.NaN, -1, 5);
        Tensor zero = f(Shape.of(3), 0, 0, 0);
        assertTrue(Float.isNaN(Convert.toFloatArray(Elementwise.max(x, zero, a))[0]));
        assertTrue(Float.isNaN(Convert.toFloatArray(Elementwise.min(zero, x, a))[0]));
        float[] relu = Convert.toFloatArray(Elementwise.relu(x, a));
        assertTrue(Float.isNaN(relu[0]));
        assertEquals(0f, relu[1]);
        float[] clamp = Convert.toFloatArray(Elementwise.clamp(x, 0, 2, a));
        assertTrue(Float.isNaN(clamp[0]));
        assertArrayEquals(new float[] {0, 2}, new float[] {clamp[1], clamp[2]});
        assertThrows(IllegalArgumentException.class, () -> Elementwise.clamp(x, 3, 2, a));
    }

    @Test
    void integerResultsSaturateAndRoundHalfToEven() {
        Tensor x = Convert.fromBytes(new byte[] {100, -100, 7}, false, Shape.of(3), a);
        assertArrayEquals(new int[] {127, -128, 14}, Convert.toIntArray(Elementwise.add(x, x, a)));
        Tensor u = Convert.fromBytes(new byte[] {(byte) 200, 3, 5}, true, Shape.of(3), a);
        // 1.5 -> 2 and 2.5 -> 2: half to even
        assertArrayEquals(new int[] {100, 2, 2}, Convert.toIntArray(Elementwise.mulScalar(u, 0.5, a)));
        assertArrayEquals(new int[] {255, 6, 10}, Convert.toIntArray(Elementwise.mulScalar(u, 2, a)));
        assertArrayEquals(new int[] {0, 0, 0}, Convert.toIntArray(Elementwise.sub(u, u, a)));
        assertArrayEquals(new int[] {0, 0, 0}, Convert.toIntArray(Elementwise.neg(u, a)));
        Tensor i = Convert.fromInts(new int[] {Integer.MAX_VALUE, -5, 3}, Shape.of(3), a);
        assertArrayEquals(new int[] {Integer.MAX_VALUE, 0, 4},
                Convert.toIntArray(Elementwise.relu(Elementwise.addScalar(i, 1, a), a)));
    }

    @Test
    void addScaledAndAffineScalars() {
        Tensor w = f(Shape.of(2, 2), 1, 2, 3, 4);
        Tensor g = f(Shape.of(2), 10, 20);
        Elementwise.addScaled(w, g, -0.1, w);
        assertClose(new float[] {0, 0, 2, 2}, w, Tolerance.rtolAtol(0, 1e-6));
        assertArrayEquals(new float[] {2.5f, 2.5f, 4.5f, 4.5f}, Convert.toFloatArray(Elementwise.addScalar(w, 2.5, a)));
        Elementwise.fill(w.select(0, 1), 9);
        assertArrayEquals(new float[] {0, 0, 9, 9}, Convert.toFloatArray(w), 1e-6f);
    }

    @Test
    void bfloat16OperandsComputeAndRoundPerElement() {
        Tensor x = Convert.to(f(Shape.of(3), 1f, 256f, 3f), DType.BFLOAT16, a);
        Tensor sum = Elementwise.add(x, Convert.to(f(Shape.of(3), 1f, 1f, 0.5f), DType.BFLOAT16, a), a);
        assertEquals(DType.BFLOAT16, sum.dtype());
        // 256 + 1 = 257 is a tie between 256 and 258 in bfloat16 (8 bits of mantissa): even wins
        assertArrayEquals(new float[] {2f, 256f, 3.5f}, Convert.toFloatArray(sum));
    }

    @Test
    void refusesClosedTensors() {
        Tensor x = iota(3);
        x.close();
        assertThrows(IllegalStateException.class, () -> Elementwise.exp(x, a));
        assertThrows(IllegalStateException.class, () -> Elementwise.fill(x, 1));
    }
}
