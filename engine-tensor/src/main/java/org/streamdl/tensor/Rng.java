package org.streamdl.tensor;

/**
 * A seeded pseudo-random generator: xoshiro256** (Blackman and Vigna, "Scrambled Linear
 * Pseudorandom Number Generators", ACM TOMS 2021), its state filled from the seed by SplitMix64 as
 * the authors recommend. Our own implementation, so a seed gives the same stream on every JDK.
 *
 * <p>The state can be exported and restored ({@link #state()}, {@link #fromState(long[])}), so a
 * training checkpoint resumes the exact stream. Not thread-safe: {@link #split()} gives a thread or
 * a worker its own independent generator.
 */
public final class Rng {
    private long s0;
    private long s1;
    private long s2;
    private long s3;

    public Rng(long seed) {
        long x = seed;
        x += 0x9E3779B97F4A7C15L;
        s0 = mix(x);
        x += 0x9E3779B97F4A7C15L;
        s1 = mix(x);
        x += 0x9E3779B97F4A7C15L;
        s2 = mix(x);
        x += 0x9E3779B97F4A7C15L;
        s3 = mix(x);
    }

    private Rng(long[] state) {
        s0 = state[0];
        s1 = state[1];
        s2 = state[2];
        s3 = state[3];
    }

    /** The SplitMix64 output function of one state value. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** 64 uniformly distributed bits. */
    public long nextLong() {
        long result = Long.rotateLeft(s1 * 5, 7) * 9;
        long t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = Long.rotateLeft(s3, 45);
        return result;
    }

    /** Uniform in {@code [0, bound)}, without modulo bias (Lemire, "Fast Random Integer Generation in an Interval", 2019). */
    public int nextInt(int bound) {
        Checks.argument(bound > 0, "bound must be > 0 but was %s", bound);
        long product = (nextLong() >>> 32) * bound;
        long low = product & 0xFFFFFFFFL;
        if (low < bound) {
            long threshold = (0x1_0000_0000L - bound) % bound;
            while (low < threshold) {
                product = (nextLong() >>> 32) * bound;
                low = product & 0xFFFFFFFFL;
            }
        }
        return (int) (product >>> 32);
    }

    /** Uniform in {@code [0, 1)} with 53 random bits. */
    public double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Uniform in {@code [0, 1)} with 24 random bits. */
    public float nextFloat() {
        return (nextLong() >>> 40) * 0x1.0p-24f;
    }

    /** Standard normal by the Box–Muller transform; one draw uses two uniforms and no cached state. */
    public double nextGaussian() {
        double u1 = 1.0 - nextDouble();      // (0, 1]: log(u1) is finite
        double u2 = nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }

    /** A generator whose stream is independent of this one's continuation. */
    public Rng split() {
        return new Rng(nextLong());
    }

    /** Shuffles {@code values} in place: Fisher–Yates, every permutation equally likely. */
    public void shuffle(int[] values) {
        for (int i = values.length - 1; i > 0; i--) {
            int j = nextInt(i + 1);
            int swap = values[i];
            values[i] = values[j];
            values[j] = swap;
        }
    }

    /** The four state words, for checkpoints. */
    public long[] state() {
        return new long[] {s0, s1, s2, s3};
    }

    /** A generator that continues exactly where the one that gave {@code state} was. */
    public static Rng fromState(long[] state) {
        Checks.argument(state.length == 4, "an Rng state has 4 words but %s were given", state.length);
        Checks.argument((state[0] | state[1] | state[2] | state[3]) != 0, "an all-zero Rng state never leaves zero");
        return new Rng(state.clone());
    }
}
