package org.streamdl.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class ShapeTest {

    @Test
    void countsElementsAndPrintsLikeATuple() {
        Shape s = Shape.of(128, 1, 28, 28);
        assertEquals(4, s.rank());
        assertEquals(128L * 28 * 28, s.elementCount());
        assertEquals("(128, 1, 28, 28)", s.toString());
        assertEquals("()", Shape.scalar().toString());
        assertEquals(1, Shape.scalar().elementCount());
        assertEquals(0, Shape.of(3, 0, 2).elementCount());
    }

    @Test
    void keepsItsOwnCopyOfTheDims() {
        long[] dims = {2, 3};
        Shape s = Shape.of(dims);
        dims[0] = 99;
        assertEquals(2, s.dim(0));
        s.dims()[1] = 99;
        assertEquals(3, s.dim(1));
    }

    @Test
    void equalShapesAreInterchangeable() {
        assertEquals(Shape.of(2, 3), Shape.of(new int[] {2, 3}));
        assertEquals(Shape.of(2, 3).hashCode(), Shape.of(2L, 3L).hashCode());
        assertNotEquals(Shape.of(2, 3), Shape.of(3, 2));
    }

    @Test
    void refusesNegativeExtentsNamingTheAxis() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Shape.of(2, -1, 3));
        assertEquals("axis 1 of [2, -1, 3] is negative", e.getMessage());
    }

    @Test
    void refusesElementCountOverflow() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Shape.of(1L << 40, 1L << 40));
        assertTrue(e.getMessage().contains("more than"), e.getMessage());
    }

    @Test
    void resolvesNegativeAxesAndRefusesOutOfRange() {
        Shape s = Shape.of(2, 3, 4);
        assertEquals(4, s.dim(-1));
        assertEquals(0, s.axis(-3));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.axis(3));
        assertEquals("axis 3 is out of range for shape (2, 3, 4) of rank 3", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.axis(-4));
    }

    @Test
    void contiguousStridesAreRowMajor() {
        assertArrayEquals(new long[] {12, 4, 1}, Shape.of(2, 3, 4).contiguousStrides());
        assertArrayEquals(new long[0], Shape.scalar().contiguousStrides());
    }

    @Test
    void broadcastsByNumpyRules() {
        assertEquals(Shape.of(8, 7, 6, 5), Shape.broadcast(Shape.of(8, 1, 6, 1), Shape.of(7, 1, 5)));
        assertEquals(Shape.of(3), Shape.broadcast(Shape.scalar(), Shape.of(3)));
        assertEquals(Shape.of(0, 4), Shape.broadcast(Shape.of(0, 1), Shape.of(1, 4)));
        assertEquals(Shape.of(2, 0), Shape.broadcast(Shape.of(2, 1), Shape.of(0)));
    }

    @Test
    void refusesShapesThatDoNotBroadcast() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Shape.broadcast(Shape.of(2, 3), Shape.of(4)));
        assertEquals("shapes (2, 3) and (4) do not broadcast: axis 1 from the end is 3 in one and 4 in the other",
                e.getMessage());
    }

    @Test
    void aBatchOfSamplesPutsTheBatchAxisFirst() {
        assertEquals(Shape.of(256, 1, 28, 28), Shape.of(1, 28, 28).withBatch(256));
        assertEquals(Shape.of(3), Shape.scalar().withBatch(3));
        assertThrows(IllegalArgumentException.class, () -> Shape.of(2).withBatch(-1));
    }
}
