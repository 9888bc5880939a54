package org.streamdl.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StridedCursorTest {

    private static List<Long> offsets(Tensor t) {
        List<Long> out = new ArrayList<>();
        StridedCursor c = new StridedCursor(t.shape(), t);
        while (c.next()) {
            long o = c.offset(0);
            for (long i = 0; i < c.rowLength(); i++, o += c.innerStride(0)) {
                out.add(o);
            }
        }
        return out;
    }

    @Test
    void walksAContiguousTensorAsOneRow() {
        try (Allocator a = Allocator.root("test", 1 << 16)) {
            Tensor t = a.allocate(DType.FLOAT32, 2, 3, 4);
            StridedCursor c = new StridedCursor(t.shape(), t);
            assertTrue(c.next());
            assertEquals(24, c.rowLength());
            assertFalse(c.next());
        }
    }

    @Test
    void visitsTransposedAndSlicedViewsInRowMajorOrder() {
        try (Allocator a = Allocator.root("test", 1 << 16)) {
            Tensor t = a.allocate(DType.FLOAT32, 2, 3);
            assertEquals(List.of(0L, 3L, 1L, 4L, 2L, 5L), offsets(t.transpose(0, 1)));
            Tensor big = a.allocate(DType.FLOAT32, 4, 6);
            assertEquals(List.of(7L, 9L, 19L, 21L), offsets(big.slice(0, 1, 4, 2).slice(1, 1, 4, 2)));
        }
    }

    @Test
    void handlesScalarsEmptyTensorsAndBroadcastAxes() {
        try (Allocator a = Allocator.root("test", 1 << 16)) {
            assertEquals(List.of(0L), offsets(a.allocate(DType.FLOAT32, Shape.scalar())));
            assertEquals(List.of(), offsets(a.allocate(DType.FLOAT32, 3, 0, 2)));
            Tensor row = a.allocate(DType.FLOAT32, 3);
            assertEquals(List.of(0L, 1L, 2L, 0L, 1L, 2L), offsets(row.expand(Shape.of(2, 3))));
        }
    }

    @Test
    void keepsOperandsInStep() {
        try (Allocator a = Allocator.root("test", 1 << 16)) {
            Tensor x = a.allocate(DType.FLOAT32, 2, 3);
            Tensor y = a.allocate(DType.FLOAT32, 3, 2).transpose(0, 1);
            StridedCursor c = new StridedCursor(x.shape(), x, y);
            List<long[]> pairs = new ArrayList<>();
            while (c.next()) {
                long i = c.offset(0);
                long j = c.offset(1);
                for (long n = 0; n < c.rowLength(); n++, i += c.innerStride(0), j += c.innerStride(1)) {
                    pairs.add(new long[] {i, j});
                }
            }
            assertEquals(6, pairs.size());
            assertArrayEquals(new long[] {1, 2}, pairs.get(1));
            assertArrayEquals(new long[] {5, 5}, pairs.get(5));
        }
    }
}
