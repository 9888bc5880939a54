package org.streamdl.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Runs in its own JVM with {@code -XX:MaxDirectMemorySize=64m} (the {@code small-direct-memory}
 * Surefire execution), as a TaskManager's direct memory is bounded: pools give way before the JVM
 * refuses, and when it refuses all the same, the allocator that asked says so.
 */
@Tag("small-direct-memory")
class SmallDirectMemoryTest {

    @Test
    void runsWithTheSmallLimit() {
        assertEquals(64L << 20, Allocator.directMemoryLimitBytes());
    }

    @Test
    void poolsAreEmptiedBeforeTheProcessRunsOutOfDirectMemory() {
        try (Allocator idle = Allocator.root("idle model", 64L << 20);
             Allocator busy = Allocator.root("busy model", 1L << 30)) {
            Tensor first = idle.allocate(DType.UINT8, 5L << 20);
            Tensor second = idle.allocate(DType.UINT8, 5L << 20);
            first.close();
            second.close();
            assertEquals(2 * Allocator.classBytes(5L << 20), idle.pooledBytes());
            List<Tensor> live = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                live.add(busy.allocate(DType.UINT8, 9L << 20));    // 60 MiB with the idle pool's 12: past 64
            }
            assertEquals(0, idle.pooledBytes(), "the idle tree's pool gave its memory back");
            assertEquals(6 * Allocator.classBytes(9L << 20), busy.usedBytes());
        }
    }

    @Test
    void anExhaustedJvmIsReportedByTheAllocatorThatAsked() {
        try (Allocator model = Allocator.root("model", 1L << 30);
             Allocator plans = model.newChild("plans")) {
            model.allocate(DType.FLOAT32, 1000);
            OutOfTensorMemoryException e = assertThrows(OutOfTensorMemoryException.class, () -> {
                for (int i = 0; i < 100; i++) {
                    plans.allocate(DType.UINT8, 10L << 20);
                }
            });
            String m = e.getMessage();
            assertTrue(m.startsWith("allocator 'model/plans': cannot allocate 10.0 MiB: the JVM's direct memory is"
                    + " exhausted ("), m);
            assertTrue(m.contains("of 64.0 MiB reserved by the process"), m);
            assertTrue(m.contains("raise -XX:MaxDirectMemorySize, on Flink taskmanager.memory.task.off-heap.size"), m);
            assertTrue(m.matches("(?s).*'model' holds [0-9.]+ MiB of its 1.0 GiB limit; biggest holders: 'model/plans'"
                    + " [0-9.]+ MiB, float32 tensor \\(1000\\) in 'model' 3.9 KiB.*"), m);
            assertTrue(e.getCause() instanceof OutOfMemoryError, "the JVM's own error is the cause");
        }
    }
}
