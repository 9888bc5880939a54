package org.streamdl.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AllocatorTest {

    @Test
    void storageIsSixtyFourByteAligned() {
        try (Allocator a = Allocator.root("test", 1 << 20)) {
            for (int n = 1; n < 40; n++) {
                Tensor t = a.allocate(DType.INT8, n);
                assertTrue(t.buffer().alignmentOffset(0, 64) == 0, "allocation of " + n + " bytes");
                assertEquals(n, t.buffer().capacity());
            }
        }
    }

    @Test
    void accountsBytesAndReleasesThemOnClose() {
        try (Allocator root = Allocator.root("root", 1 << 20)) {
            Tensor t = root.allocate(DType.FLOAT32, 10, 10);
            assertEquals(512, root.usedBytes());          // 400 bytes, aligned, in the 512-byte class
            try (Allocator step = root.newChild("step", 1 << 10)) {
                step.allocate(DType.INT32, 100);
                assertEquals(512, step.usedBytes());
                assertEquals(1024, root.usedBytes());
            }
            assertEquals(512, root.usedBytes());
            assertEquals(1024, root.peakBytes());
            t.close();
            assertEquals(0, root.usedBytes());
        }
    }

    @Test
    void refusesAllocationsOverTheLimitNamingAllocatorAndSizes() {
        try (Allocator root = Allocator.root("train-step", 256L << 20)) {
            root.allocate(DType.FLOAT32, 255L << 18);       // 255 MiB
            OutOfTensorMemoryException e = assertThrows(OutOfTensorMemoryException.class,
                    () -> root.allocate(DType.FLOAT32, 3L << 19)); // 1.5 MiB
            assertEquals("allocator 'train-step': cannot allocate 6.0 MiB, 256.0 MiB of 256.0 MiB in use;"
                    + " biggest holders: float32 tensor (66846720) in 'train-step' 255.0 MiB", e.getMessage());
            assertEquals(256L << 20, root.usedBytes());   // 255 MiB sits in the 256 MiB class
        }
    }

    @Test
    void childrenCountAgainstTheirParentsLimit() {
        try (Allocator model = Allocator.root("model", 4096);
             Allocator step = model.newChild("step", 10_000)) {
            model.allocate(DType.INT8, 3000);
            OutOfTensorMemoryException e = assertThrows(OutOfTensorMemoryException.class,
                    () -> step.allocate(DType.INT8, 1000));
            assertTrue(e.getMessage().startsWith("allocator 'model/step' (its ancestor 'model' is full)"), e.getMessage());
            assertEquals(0, step.usedBytes());
        }
    }

    @Test
    void closingFreesEveryTensorAndAccessAfterwardsThrows() {
        Allocator a = Allocator.root("scratch", 1 << 20);
        Tensor t = a.allocate(DType.FLOAT32, 4);
        a.close();
        assertTrue(a.isClosed());
        assertFalse(t.isLive());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> t.getFloat(0));
        assertEquals("float32 tensor (4) was freed (allocator 'scratch' is closed); it cannot be used after its"
                + " tensor or allocator is closed", e.getMessage());
        assertThrows(IllegalStateException.class, () -> a.allocate(DType.FLOAT32, 1));
        a.close(); // idempotent
    }

    @Test
    void closingAParentWithOpenChildrenClosesThemAndNamesTheLeak() {
        Allocator root = Allocator.root("model", 1 << 20, true);
        Allocator forgotten = root.newChild("forgotten-step", 1 << 20);
        Tensor leaked = forgotten.allocate(DType.FLOAT32, 8);
        IllegalStateException e = assertThrows(IllegalStateException.class, root::close);
        assertTrue(e.getMessage().startsWith(
                "allocator 'model' was closed while its children 'forgotten-step' were open"), e.getMessage());
        assertTrue(e.getMessage().contains("float32 tensor (8), 32 B, allocated at " + getClass().getName()),
                e.getMessage());
        assertTrue(forgotten.isClosed());
        assertFalse(leaked.isLive());
        assertEquals(0, root.usedBytes());
    }

    @Test
    void debugModeRecordsWhereLiveTensorsCameFrom() {
        try (Allocator a = Allocator.root("debug", 1 << 20, true)) {
            a.allocate(DType.UINT8, 3);
            String live = a.describeLive();
            assertTrue(live.startsWith("allocator 'debug': 256 B of 1.0 MiB in use\n"), live);
            assertTrue(live.contains("uint8 tensor (3), 3 B, allocated at " + getClass().getName()
                    + ".debugModeRecordsWhereLiveTensorsCameFrom"), live);
        }
        try (Allocator quiet = Allocator.root("quiet", 1 << 20, false)) {
            quiet.allocate(DType.UINT8, 3);
            assertFalse(quiet.describeLive().contains("allocated at"));
        }
    }

    @Test
    void closingATensorTwiceIsHarmless() {
        try (Allocator a = Allocator.root("test", 1 << 10)) {
            Tensor t = a.allocate(DType.FLOAT32, 4);
            t.close();
            t.close();
            assertEquals(0, a.usedBytes());
        }
    }

    @Test
    void refusesBadNamesAndLimits() {
        assertThrows(IllegalArgumentException.class, () -> Allocator.root("", 1));
        assertThrows(IllegalArgumentException.class, () -> Allocator.root("x", -1));
        try (Allocator a = Allocator.root("test", 1 << 10)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> a.allocate(DType.FLOAT32, 1L << 40, 1L << 22));
            assertTrue(e.getMessage().contains("larger than"), e.getMessage());
        }
    }

    @Test
    void formatsSizesForPeople() {
        assertEquals("512 B", Allocator.bytesToString(512));
        assertEquals("1.5 KiB", Allocator.bytesToString(1536));
        assertEquals("2.0 GiB", Allocator.bytesToString(2L << 30));
    }
}
