package org.streamdl.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.streamdl.tensor.ops.Convert;

class TensorViewTest {
    private Allocator allocator;

    @BeforeEach
    void open() {
        allocator = Allocator.root("test", 1 << 20);
    }

    @AfterEach
    void close() {
        allocator.close();
    }

    /** (2, 3, 4) holding 0..23. */
    private Tensor iota() {
        float[] values = new float[24];
        for (int i = 0; i < values.length; i++) {
            values[i] = i;
        }
        return Convert.fromFloats(values, Shape.of(2, 3, 4), allocator);
    }

    @Test
    void allocatesZeroFilledContiguousAlignedTensors() {
        Tensor t = allocator.allocate(DType.FLOAT32, 3, 5);
        assertTrue(t.isContiguous());
        assertFalse(t.isView());
        assertArrayEquals(new long[] {5, 1}, t.strides());
        assertArrayEquals(new float[15], Convert.toFloatArray(t));
        assertEquals(60, t.storage().byteSize());
    }

    @Test
    void readsAndWritesSingleElements() {
        Tensor t = iota();
        assertEquals(23f, t.getFloat(1, 2, 3));
        t.set(-1.5, 0, 1, 2);
        assertEquals(-1.5f, t.getFloat(0, 1, 2));
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> t.getFloat(0, 3, 0));
        assertEquals("index 3 is out of bounds for axis 1 of shape (2, 3, 4)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.getFloat(0, 0));
    }

    @Test
    void reshapeSharesStorageAndInfersOneExtent() {
        Tensor t = iota();
        Tensor r = t.reshape(6, -1);
        assertEquals(Shape.of(6, 4), r.shape());
        assertSame(t.storage(), r.storage());
        r.set(100, 5, 3);
        assertEquals(100f, t.getFloat(1, 2, 3));
    }

    @Test
    void reshapeRefusesBadTargets() {
        Tensor t = iota();
        IllegalArgumentException counts = assertThrows(IllegalArgumentException.class, () -> t.reshape(5, 5));
        assertEquals("reshape (2, 3, 4) to (5, 5): element counts differ (24 vs 25)", counts.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.reshape(-1, -1));
        assertThrows(IllegalArgumentException.class, () -> t.reshape(5, -1));
        IllegalArgumentException strided = assertThrows(IllegalArgumentException.class,
                () -> t.transpose(0, 2).reshape(24));
        assertTrue(strided.getMessage().contains("call contiguous(allocator) first"), strided.getMessage());
    }

    @Test
    void transposeAndPermuteSwapStrides() {
        Tensor t = iota();
        Tensor tt = t.transpose(0, 2);
        assertEquals(Shape.of(4, 3, 2), tt.shape());
        assertArrayEquals(new long[] {1, 4, 12}, tt.strides());
        assertEquals(t.getFloat(1, 2, 3), tt.getFloat(3, 2, 1));
        assertFalse(tt.isContiguous());
        Tensor p = t.permute(1, 2, 0);
        assertEquals(Shape.of(3, 4, 2), p.shape());
        assertEquals(t.getFloat(1, 2, 3), p.getFloat(2, 3, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> t.permute(0, 0, 1));
        assertTrue(e.getMessage().contains("appears twice"), e.getMessage());
    }

    @Test
    void narrowSliceAndSelectAreViewsAtTheRightOffset() {
        Tensor t = iota();
        Tensor n = t.narrow(2, 1, 2);
        assertEquals(Shape.of(2, 3, 2), n.shape());
        assertArrayEquals(new float[] {1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22}, Convert.toFloatArray(n));
        Tensor s = t.slice(2, 0, 4, 3);
        assertArrayEquals(new float[] {0, 3, 4, 7, 8, 11, 12, 15, 16, 19, 20, 23}, Convert.toFloatArray(s));
        Tensor sel = t.select(1, 2);
        assertEquals(Shape.of(2, 4), sel.shape());
        assertArrayEquals(new float[] {8, 9, 10, 11, 20, 21, 22, 23}, Convert.toFloatArray(sel));
        assertThrows(IllegalArgumentException.class, () -> t.narrow(0, 1, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> t.select(0, 2));
        assertEquals(Shape.of(2, 3, 0), t.narrow(2, 4, 0).shape());
    }

    @Test
    void expandBroadcastsWithZeroStrides() {
        Tensor row = Convert.fromFloats(new float[] {1, 2, 3}, Shape.of(3), allocator);
        Tensor e = row.expand(Shape.of(2, 3));
        assertArrayEquals(new long[] {0, 1}, e.strides());
        assertArrayEquals(new float[] {1, 2, 3, 1, 2, 3}, Convert.toFloatArray(e));
        Tensor col = row.reshape(3, 1).expand(Shape.of(3, 2));
        assertArrayEquals(new float[] {1, 1, 2, 2, 3, 3}, Convert.toFloatArray(col));
        IllegalArgumentException err = assertThrows(IllegalArgumentException.class, () -> row.expand(Shape.of(2, 4)));
        assertEquals("expand (3) to (2, 4): axis 0 has extent 3, which is neither 4 nor 1", err.getMessage());
    }

    @Test
    void squeezeAndUnsqueezeRoundTrip() {
        Tensor t = allocator.allocate(DType.FLOAT32, 1, 3, 1, 2);
        assertEquals(Shape.of(3, 2), t.squeeze().shape());
        assertEquals(Shape.of(1, 3, 2), t.squeeze(2).shape());
        assertThrows(IllegalArgumentException.class, () -> t.squeeze(1));
        Tensor u = t.squeeze().unsqueeze(0).unsqueeze(-1);
        assertEquals(Shape.of(1, 3, 2, 1), u.shape());
        assertTrue(u.isContiguous());
        assertThrows(IllegalArgumentException.class, () -> t.unsqueeze(6));
    }

    @Test
    void contiguousCopiesOnlyWhenNeeded() {
        Tensor t = iota();
        assertSame(t, t.contiguous(allocator));
        Tensor tt = t.transpose(1, 2);
        Tensor c = tt.contiguous(allocator);
        assertTrue(c.isContiguous());
        assertArrayEquals(Convert.toFloatArray(tt), Convert.toFloatArray(c));
        assertEquals(Shape.of(2, 4, 3), c.shape());
        assertEquals(4f, c.getFloat(0, 0, 1));
    }

    @Test
    void viewsOfAViewCompose() {
        Tensor t = iota();
        Tensor v = t.transpose(0, 2).narrow(0, 1, 2).select(2, 1);   // (2, 3) from axis 2 index 1..2, axis 0 = 1
        assertEquals(Shape.of(2, 3), v.shape());
        assertArrayEquals(new float[] {13, 17, 21, 14, 18, 22}, Convert.toFloatArray(v));
    }

    @Test
    void viewsBecomeUnusableWhenTheOwnerIsClosed() {
        Tensor t = iota();
        Tensor v = t.reshape(24);
        t.close();
        assertFalse(v.isLive());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> v.getFloat(0));
        assertTrue(e.getMessage().contains("was freed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> t.reshape(2, 12));
    }

    @Test
    void viewsCannotBeClosed() {
        Tensor t = iota();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.reshape(24).close());
        assertTrue(e.getMessage().startsWith("a view cannot be closed"), e.getMessage());
    }
}
