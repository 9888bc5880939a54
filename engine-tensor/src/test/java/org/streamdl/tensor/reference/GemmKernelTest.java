package org.streamdl.tensor.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;
import org.streamdl.tensor.ops.RandomFill;
import org.streamdl.tensor.spi.MatmulPlan;
import org.streamdl.tensor.spi.MatmulSpec;

class GemmKernelTest {
    private Allocator a;

    @BeforeEach
    void open() {
        a = Allocator.root("test", 256 << 20);
    }

    @AfterEach
    void close() {
        a.close();
    }

    private Tensor random(long rows, long cols, long seed) {
        Tensor t = a.allocate(DType.FLOAT32, rows, cols);
        RandomFill.uniform(t, -1, 1, new Rng(seed));
        return t;
    }

    /**
     * Each element checked against a double-precision dot product with a bound relative to
     * Σ|a||b| (float32 summation error grows with k).
     */
    private static void assertMatchesNaive(Tensor x, Tensor y, Tensor c, float alpha, float beta, float[] cBefore) {
        int m = (int) x.shape().dim(0), k = (int) x.shape().dim(1), n = (int) y.shape().dim(1);
        float[] cv = Convert.toFloatArray(c);
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0, mag = 0;
                for (int p = 0; p < k; p++) {
                    double prod = (double) x.getFloat(i, p) * y.getFloat(p, j);
                    s += prod;
                    mag += Math.abs(prod);
                }
                double expected = alpha * s + (beta == 0 ? 0 : beta * cBefore[i * n + j]);
                double bound = 1e-6 * (k + 2) * (Math.abs(alpha) * mag + Math.abs(beta) + 1);
                if (Math.abs(cv[i * n + j] - expected) > bound) {
                    if (bad++ < 3) {
                        first.append(" [").append(i).append(',').append(j).append("] expected ").append(expected)
                                .append(" was ").append(cv[i * n + j]);
                    }
                }
            }
        }
        if (bad > 0) {
            fail(bad + " of " + (m * n) + " elements differ:" + first);
        }
    }

    /** Sizes straddle every block edge: MC 64, KC 256, NC 512, and the four-row micro-kernel. */
    @ParameterizedTest
    @CsvSource({"1,1,1", "17,31,13", "4,4,4", "5,3,7", "63,255,511", "64,256,512", "65,257,513",
            "130,600,70", "3,1030,9", "1030,5,3"})
    void matchesANaiveProductOnAwkwardShapes(int m, int k, int n) {
        Tensor x = random(m, k, m * 31L + k);
        Tensor y = random(k, n, n * 17L + k);
        try (ReferenceBackend backend = ReferenceBackend.create(2);
             MatmulPlan plan = backend.planMatmul(MatmulSpec.of(x.shape(), y.shape()), a).orElseThrow()) {
            Tensor c = a.allocate(DType.FLOAT32, m, n);
            plan.execute(x, y, c);
            assertMatchesNaive(x, y, c, 1, 0, null);
        }
    }

    @Test
    void honoursAlphaBetaAndStridedOperands() {
        Tensor big = random(90, 80, 1);
        Tensor x = big.slice(0, 0, 90, 2).narrow(1, 3, 70);          // (45, 70), row stride 160
        Tensor y = random(40, 70, 2).transpose(0, 1);                // (70, 40), column-major
        Tensor cBacking = random(40, 45, 3);
        Tensor c = cBacking.transpose(0, 1);                          // (45, 40) written through a transposed view
        float[] before = Convert.toFloatArray(c);
        try (ReferenceBackend backend = ReferenceBackend.create(2);
             MatmulPlan plan = backend.planMatmul(MatmulSpec.of(x.shape(), y.shape()).withScale(0.5f, -2f), a).orElseThrow()) {
            plan.execute(x, y, c);
        }
        assertMatchesNaive(x, y, c, 0.5f, -2f, before);
    }

    @Test
    void resultsDoNotDependOnTheThreadCount() {
        Tensor x = random(300, 700, 4);
        Tensor y = random(700, 200, 5);
        float[][] results = new float[3][];
        for (int threads = 1; threads <= 3; threads++) {
            try (ReferenceBackend backend = ReferenceBackend.create(threads);
                 MatmulPlan plan = backend.planMatmul(MatmulSpec.of(x.shape(), y.shape()), a).orElseThrow()) {
                Tensor c = a.allocate(DType.FLOAT32, 300, 200);
                plan.execute(x, y, c);
                results[threads - 1] = Convert.toFloatArray(c);
            }
        }
        assertArrayEquals(results[0], results[1]);
        assertArrayEquals(results[0], results[2]);
    }

    @Test
    void aClosedBackendRefusesWork() {
        ReferenceBackend backend = ReferenceBackend.create(2);
        backend.close();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> backend.planMatmul(MatmulSpec.of(Shape.of(2, 2), Shape.of(2, 2)), a));
        assertEquals("the reference backend is closed", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ReferenceBackend.create(0));
    }

    @Test
    void specsPrintAndCountFlops() {
        MatmulSpec spec = MatmulSpec.of(Shape.of(128, 400), Shape.of(120, 400), false, true);
        assertEquals("matmul (128, 400)·(120, 400)ᵀ float32", spec.toString());
        assertEquals(Shape.of(128, 120), spec.cShape());
        assertEquals(2.0 * 128 * 120 * 400, spec.flops());
        assertEquals(spec, MatmulSpec.of(Shape.of(128, 400), Shape.of(120, 400), false, true));
    }
}
