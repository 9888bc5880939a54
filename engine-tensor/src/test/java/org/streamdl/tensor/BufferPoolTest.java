package org.streamdl.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The pooling policy of {@link BufferPool}: size classes, caps per tree, what is freed when. */
class BufferPoolTest {

    @Test
    void sizeClassesWasteAtMostAQuarterAndAreIndexedWithoutGaps() {
        int previousClass = 0;
        int previousIndex = -1;
        for (long bytes = 1; bytes <= 300L << 20; bytes = bytes + 1 + bytes / 97) {
            int capacity = DirectMemory.classCapacity(bytes);
            long needed = (bytes + 63) / 64 * 64 + 64;
            assertTrue(capacity >= needed, "class of " + bytes + " bytes");
            assertTrue(capacity <= Math.max(needed + 255, needed * 5 / 4 + 64), "class of " + bytes + " bytes is " + capacity);
            if (capacity <= DirectMemory.LARGEST_CLASS && capacity != previousClass) {
                int index = BufferPool.classIndex(capacity);
                assertTrue(capacity > previousClass && index > previousIndex, "classes grow with their index at " + bytes);
                previousClass = capacity;
                previousIndex = index;
            }
        }
        assertEquals(BufferPool.classIndex(DirectMemory.LARGEST_CLASS), previousIndex);
    }

    @Test
    void batchesOfNeighbouringSizesShareOneBuffer() {
        try (Allocator root = Allocator.root("model", 1L << 30)) {
            root.allocate(DType.FLOAT32, 199, 1, 28, 28).close();
            long pooled = root.pooledBytes();
            assertTrue(pooled > 199 * 784 * 4, "the freed batch is pooled: " + pooled);
            long reserved = Allocator.directMemoryReservedBytes();
            Tensor larger = root.allocate(DType.FLOAT32, 200, 1, 28, 28);
            assertEquals(0, root.pooledBytes(), "a batch of 200 rows took the buffer a batch of 199 freed");
            assertEquals(reserved, Allocator.directMemoryReservedBytes(), "no new direct memory was reserved");
            assertEquals(0f, larger.getFloat(0, 0, 27, 27), "an allocate() from the pool is zero-filled");
        }
    }

    @Test
    void aTreePoolsAtMostAQuarterOfItsLimitAndAtMostSixtyFourMebibytes() {
        try (Allocator small = Allocator.root("small", 4L << 20)) {
            Tensor a = small.allocate(DType.UINT8, 900_000);
            Tensor b = small.allocate(DType.UINT8, 900_000);
            a.close();
            b.close();
            assertTrue(small.pooledBytes() <= 1L << 20 && small.pooledBytes() > 0, "pooled " + small.pooledBytes());
        }
        try (Allocator large = Allocator.root("large", 4L << 30)) {
            Tensor[] batches = new Tensor[6];
            for (int i = 0; i < batches.length; i++) {
                batches[i] = large.allocate(DType.UINT8, 16L << 20);
            }
            long reservedWithAll = Allocator.directMemoryReservedBytes();
            for (Tensor t : batches) {
                t.close();
            }
            assertEquals(3 * Allocator.classBytes(16L << 20), large.pooledBytes(), "three 20 MiB buffers fit in 64 MiB");
            assertEquals(reservedWithAll - 3 * Allocator.classBytes(16L << 20), Allocator.directMemoryReservedBytes(),
                    "the others went back to the system at once");
        }
    }

    @Test
    void aTreeNeverPoolsMoreThanItsPeakInLiveTensors() {
        try (Allocator root = Allocator.root("model", 1L << 30)) {
            root.allocate(DType.UINT8, 8L << 20).close();
            Tensor a = root.allocate(DType.UINT8, 3L << 20);   // another class: new memory
            Tensor b = root.allocate(DType.UINT8, 3L << 20);
            a.close();
            b.close();
            assertTrue(root.pooledBytes() <= root.peakBytes(), root.pooledBytes() + " pooled, peak " + root.peakBytes());
            assertTrue(root.pooledBytes() >= Allocator.classBytes(8L << 20), "the largest buffer stayed pooled");
        }
    }

    @Test
    void closingTheRootReturnsItsPoolToTheSystem() {
        long before = Allocator.directMemoryReservedBytes();
        Allocator root = Allocator.root("model", 1L << 30);
        root.allocate(DType.FLOAT32, 1 << 20).close();
        assertTrue(root.pooledBytes() > 0);
        root.close();
        assertEquals(0, root.pooledBytes());
        assertEquals(before, Allocator.directMemoryReservedBytes());
    }

    @Test
    void freeAllFreesTheTensorsOfOneAllocatorAndKeepsItOpen() {
        try (Allocator root = Allocator.root("model", 1L << 20);
             Allocator scratch = root.newChild("scratch")) {
            Tensor kept = root.allocate(DType.FLOAT32, 4);
            Tensor temporary = scratch.allocate(DType.FLOAT32, 1000);
            scratch.freeAll();
            assertFalse(temporary.isLive());
            assertTrue(kept.isLive());
            assertEquals(0, scratch.usedBytes());
            assertEquals(Allocator.classBytes(16), root.usedBytes());
            scratch.allocate(DType.FLOAT32, 1000);     // still open, and served from the pool
            assertEquals(0, root.pooledBytes());
        }
    }

    @Test
    void aChildWithoutALimitOfItsOwnIsBoundedByItsAncestors() {
        try (Allocator root = Allocator.root("model", 1L << 20);
             Allocator plans = root.newChild("plans")) {
            assertEquals(Allocator.NO_OWN_LIMIT, plans.limitBytes());
            assertTrue(root.describeLive().contains("allocator 'plans': 0 B in use (no limit of its own)"),
                    root.describeLive());
            plans.allocate(DType.UINT8, 600_000);
            OutOfTensorMemoryException e = assertThrows(OutOfTensorMemoryException.class,
                    () -> plans.allocate(DType.UINT8, 600_000));
            assertTrue(e.getMessage().startsWith("allocator 'model/plans' (its ancestor 'model' is full): cannot"
                    + " allocate 585.9 KiB, 640.0 KiB of 1.0 MiB in use; biggest holders: 'model/plans' 640.0 KiB"),
                    e.getMessage());
        }
    }
}
