package org.streamdl.dnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.Models;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.spi.MatmulPlan;
import org.streamdl.tensor.spi.MatmulSpec;

/** The bounded plan cache and where plans keep their memory. */
class KernelsTest {

    private static MatmulSpec spec(int rows) {
        return MatmulSpec.of(Shape.of(rows, 8), Shape.of(4, 8), false, true).withWeightsB(true);
    }

    @Test
    void theCacheKeepsAtMostMaxPlansClosingTheLeastRecentlyUsed() {
        try (Kernels kernels = Kernels.create(1)) {
            kernels.beginPass();
            MatmulPlan first = kernels.matmul(spec(1));
            for (int rows = 2; rows <= Kernels.MAX_PLANS + 50; rows++) {
                kernels.beginPass();
                kernels.matmul(spec(rows));
                assertTrue(kernels.planCount() <= Kernels.MAX_PLANS, kernels.planCount() + " plans");
            }
            assertEquals(50, kernels.evictions());
            kernels.beginPass();
            assertTrue(first != kernels.matmul(spec(1)), "the oldest plan was closed and is planned anew");
            MatmulPlan recent = kernels.matmul(spec(Kernels.MAX_PLANS + 50));
            kernels.beginPass();
            assertSame(recent, kernels.matmul(spec(Kernels.MAX_PLANS + 50)), "a recent plan is reused");
        }
    }

    @Test
    void aPlanOfTheCurrentPassIsNeverClosed() {
        try (Kernels kernels = Kernels.create(1)) {
            kernels.beginPass();
            MatmulPlan first = kernels.matmul(spec(1));
            for (int rows = 2; rows <= Kernels.MAX_PLANS + 10; rows++) {
                kernels.matmul(spec(rows));              // one pass that needs more plans than the cache keeps
            }
            assertEquals(0, kernels.evictions());
            assertSame(first, kernels.matmul(spec(1)), "its backward pass may still need it");
            kernels.beginPass();
            kernels.matmul(spec(1000));
            assertEquals(Kernels.MAX_PLANS, kernels.planCount(), "the next pass trims the cache");
        }
    }

    @Test
    void plansLiveInTheTreeOfTheModelTheKernelsServe() {
        try (Model model = Models.mlp(1, Kernels.create(1))) {
            assertEquals("mlp/plans", model.kernels().memory().path());
            try (Allocator in = Allocator.root("in", 1 << 20)) {
                model.predict(in.allocate(org.streamdl.tensor.DType.FLOAT32, 3, 784), in);
            }
            assertTrue(model.kernels().memory().usedBytes() > 0, "the packed weights are the model's");
            assertTrue(model.allocator().usedBytes() >= model.kernels().memory().usedBytes());
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Models.lenet5(1, model.kernels()));
            assertTrue(e.getMessage().contains("give each model kernels of its own"), e.getMessage());
        }
    }

    @Test
    void inferenceBatchSizesAreFewAndNeverSmallerThanTheBatch() {
        long distinct = 0;
        long previous = 0;
        for (long rows = 1; rows <= 256; rows++) {
            long size = Model.inferenceBatchSize(rows);
            assertTrue(size >= rows && (size - rows) * 3 < size, rows + " rows run as " + size);
            distinct += size == previous ? 0 : 1;
            previous = size;
        }
        assertEquals(16, distinct);
    }
}
