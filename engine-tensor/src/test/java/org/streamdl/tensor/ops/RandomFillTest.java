package org.streamdl.tensor.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Tensor;

class RandomFillTest {
    private Allocator a;

    @BeforeEach
    void open() {
        a = Allocator.root("test", 16 << 20);
    }

    @AfterEach
    void close() {
        a.close();
    }

    private static double mean(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s / v.length;
    }

    private static double std(float[] v) {
        double m = mean(v), s = 0;
        for (float x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / v.length);
    }

    @Test
    void uniformStaysInItsHalfOpenRange() {
        Tensor t = a.allocate(DType.FLOAT32, 200, 250);
        RandomFill.uniform(t, -0.5, 0.25, new Rng(1));
        float[] v = Convert.toFloatArray(t);
        for (float x : v) {
            assertTrue(x >= -0.5f && x < 0.25f, "value " + x);
        }
        assertEquals(-0.125, mean(v), 0.005);
        assertEquals(0.75 / Math.sqrt(12), std(v), 0.005);
    }

    @Test
    void normalHasItsMeanAndStd() {
        Tensor t = a.allocate(DType.FLOAT32, 100_000);
        RandomFill.normal(t, 2, 0.5, new Rng(2));
        float[] v = Convert.toFloatArray(t);
        assertEquals(2, mean(v), 0.01);
        assertEquals(0.5, std(v), 0.01);
    }

    @Test
    void truncatedNormalRespectsItsBounds() {
        Tensor t = a.allocate(DType.FLOAT32, 50_000);
        RandomFill.truncatedNormal(t, 0, 1, -2, 2, new Rng(3));
        float[] v = Convert.toFloatArray(t);
        for (float x : v) {
            assertTrue(x >= -2 && x <= 2, "value " + x);
        }
        // std of a standard normal truncated to [-2, 2] is about 0.880
        assertEquals(0.880, std(v), 0.01);
        assertThrows(IllegalArgumentException.class, () -> RandomFill.truncatedNormal(t, 0, 1, 10, 11, new Rng(3)));
    }

    @Test
    void bernoulliDrawsZerosAndOnesAtTheRate() {
        Tensor t = a.allocate(DType.UINT8, 100_000);
        RandomFill.bernoulli(t, 0.3, new Rng(4));
        int ones = 0;
        for (int x : Convert.toIntArray(t)) {
            assertTrue(x == 0 || x == 1);
            ones += x;
        }
        assertEquals(30_000, ones, 600);
        assertThrows(IllegalArgumentException.class, () -> RandomFill.bernoulli(t, 1.5, new Rng(4)));
    }

    @Test
    void theSameSeedGivesTheSameLogicalValuesWhateverTheLayout() {
        Tensor plain = a.allocate(DType.FLOAT32, 3, 4);
        RandomFill.normal(plain, 0, 1, new Rng(5));
        Tensor backing = a.allocate(DType.FLOAT32, 4, 3);
        RandomFill.normal(backing.transpose(0, 1), 0, 1, new Rng(5));
        assertArrayEquals(Convert.toFloatArray(plain), Convert.toFloatArray(backing.transpose(0, 1)));
    }

    @Test
    void refusesIntegerTensorsAndBadParameters() {
        Tensor ints = a.allocate(DType.INT32, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> RandomFill.uniform(ints, 0, 1, new Rng(1)));
        assertEquals("uniform fills floating-point tensors but got int32", e.getMessage());
        Tensor f = a.allocate(DType.FLOAT32, 3);
        assertThrows(IllegalArgumentException.class, () -> RandomFill.uniform(f, 1, 1, new Rng(1)));
        assertThrows(IllegalArgumentException.class, () -> RandomFill.normal(f, 0, -1, new Rng(1)));
    }
}
