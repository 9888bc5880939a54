package org.streamdl.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class RngTest {

    @Test
    void splitMixMatchesItsPublishedOutputs() {
        // SplitMix64 seeded with 0: the first outputs are mix(γ), mix(2γ), ... with γ = 0x9E3779B97F4A7C15
        assertEquals(0xE220A8397B1DCDAFL, Rng.mix(0x9E3779B97F4A7C15L));
        assertEquals(0x6E789E6AA1B965F4L, Rng.mix(0x9E3779B97F4A7C15L * 2));
        assertEquals(0x06C45D188009454FL, Rng.mix(0x9E3779B97F4A7C15L * 3));
    }

    @Test
    void xoshiroStepFollowsTheAlgorithm() {
        long[] s = {1, 2, 3, 4};
        Rng rng = Rng.fromState(s);
        // result = rotl(s1 * 5, 7) * 9 for the state before the step
        assertEquals(Long.rotateLeft(2L * 5, 7) * 9, rng.nextLong());
        long t = 2L << 17;
        long s2 = 3 ^ 1, s3 = 4 ^ 2, s1 = 2 ^ s2, s0 = 1 ^ s3;
        s2 ^= t;
        s3 = Long.rotateLeft(s3, 45);
        assertArrayEquals(new long[] {s0, s1, s2, s3}, rng.state());
    }

    @Test
    void aSeedGivesTheSameStreamAndStateRoundTrips() {
        Rng a = new Rng(42);
        Rng b = new Rng(42);
        for (int i = 0; i < 100; i++) {
            assertEquals(a.nextLong(), b.nextLong());
        }
        Rng resumed = Rng.fromState(a.state());
        for (int i = 0; i < 100; i++) {
            assertEquals(a.nextGaussian(), resumed.nextGaussian());
        }
        assertNotEquals(new Rng(1).nextLong(), new Rng(2).nextLong());
    }

    @Test
    void uniformsStayInRangeAndNormalsHaveTheRightMoments() {
        Rng rng = new Rng(3);
        int n = 100_000;
        double sum = 0, sumSq = 0;
        for (int i = 0; i < n; i++) {
            double u = rng.nextDouble();
            float f = rng.nextFloat();
            assertTrue(u >= 0 && u < 1 && f >= 0 && f < 1);
            double g = rng.nextGaussian();
            sum += g;
            sumSq += g * g;
        }
        double mean = sum / n;
        double std = Math.sqrt(sumSq / n - mean * mean);
        assertEquals(0, mean, 0.02);
        assertEquals(1, std, 0.02);
    }

    @Test
    void nextIntIsUnbiasedEnoughAndInRange() {
        Rng rng = new Rng(5);
        int[] counts = new int[6];
        for (int i = 0; i < 60_000; i++) {
            counts[rng.nextInt(6)]++;
        }
        for (int c : counts) {
            assertEquals(10_000, c, 400);
        }
        assertThrows(IllegalArgumentException.class, () -> rng.nextInt(0));
        assertEquals(0, rng.nextInt(1));
    }

    @Test
    void shuffleIsADeterministicPermutation() {
        int[] a = new int[50];
        for (int i = 0; i < a.length; i++) {
            a[i] = i;
        }
        int[] b = a.clone();
        new Rng(9).shuffle(a);
        new Rng(9).shuffle(b);
        assertArrayEquals(a, b);
        int[] sorted = a.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            assertEquals(i, sorted[i]);
        }
        assertNotEquals(0, Arrays.mismatch(a, sorted) < 0 ? 0 : 1);
    }

    @Test
    void splitGivesAnIndependentStream() {
        Rng parent = new Rng(11);
        Rng child = parent.split();
        assertNotEquals(parent.nextLong(), child.nextLong());
    }

    @Test
    void refusesBadStates() {
        assertThrows(IllegalArgumentException.class, () -> Rng.fromState(new long[3]));
        assertThrows(IllegalArgumentException.class, () -> Rng.fromState(new long[4]));
    }
}
