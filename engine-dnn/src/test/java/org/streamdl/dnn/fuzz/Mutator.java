package org.streamdl.dnn.fuzz;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Seeded mutations of a valid file, the kinds that break parsers: flipped bits, overwritten
 * length and count fields (0, -1, huge), truncation, duplicated and deleted ranges. The same seed
 * gives the same mutant, so a failure names a reproducible case.
 */
final class Mutator {
    private Mutator() {}

    static byte[] mutate(byte[] original, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] b = original.clone();
        int rounds = 1 + r.nextInt(4);
        for (int i = 0; i < rounds && b.length > 0; i++) {
            int at = r.nextInt(b.length);
            switch (r.nextInt(7)) {
                case 0 -> b[at] ^= (byte) (1 << r.nextInt(8));
                case 1 -> b[at] = (byte) r.nextInt(256);
                case 2 -> b = Arrays.copyOf(b, r.nextInt(b.length)); // truncate
                case 3 -> overwrite(b, at, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x7f});
                case 4 -> overwrite(b, at, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                        (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01}); // a huge varint
                case 5 -> overwrite(b, at, new byte[4]);
                default -> {
                    int length = Math.min(b.length - at, 1 + r.nextInt(64));
                    byte[] grown = new byte[b.length + length];
                    System.arraycopy(b, 0, grown, 0, at + length);
                    System.arraycopy(b, at, grown, at + length, b.length - at); // duplicate a range
                    b = grown;
                }
            }
        }
        return b;
    }

    private static void overwrite(byte[] b, int at, byte[] with) {
        System.arraycopy(with, 0, b, at, Math.min(with.length, b.length - at));
    }

    /** Iterations per target: a short run in every build, longer on request ({@code -Dstreamdl.fuzz.iterations=N}). */
    static int iterations() {
        return Integer.getInteger("streamdl.fuzz.iterations", 1500);
    }

    /** The first seed ({@code -Dstreamdl.fuzz.seed=S}), to reproduce a reported case. */
    static long firstSeed() {
        return Long.getLong("streamdl.fuzz.seed", 1);
    }
}
