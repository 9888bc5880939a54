package org.streamdl.tensor;

import java.util.Arrays;

/**
 * Precondition checks whose messages are formatted only on failure. Templates use {@code %s};
 * arrays are printed element by element ({@code [128, -1]}), not as identity hashes.
 */
public final class Checks {
    private Checks() {}

    /** Throws {@link IllegalArgumentException} when a caller passed a bad value or shape. */
    public static void argument(boolean condition, String template, Object... args) {
        if (!condition) {
            throw new IllegalArgumentException(format(template, args));
        }
    }

    /** Throws {@link IllegalStateException} when an object is used in the wrong state. */
    public static void state(boolean condition, String template, Object... args) {
        if (!condition) {
            throw new IllegalStateException(format(template, args));
        }
    }

    /** Throws {@link IndexOutOfBoundsException} unless {@code 0 <= index < size}. */
    public static long index(long index, long size, String template, Object... args) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException(format(template, args));
        }
        return index;
    }

    /** {@link String#format} with arrays rendered by value. */
    public static String format(String template, Object... args) {
        Object[] rendered = new Object[args.length];
        for (int i = 0; i < args.length; i++) {
            rendered[i] = render(args[i]);
        }
        return String.format(template, rendered);
    }

    private static Object render(Object arg) {
        if (arg instanceof long[] a) return Arrays.toString(a);
        if (arg instanceof int[] a) return Arrays.toString(a);
        if (arg instanceof float[] a) return Arrays.toString(a);
        if (arg instanceof double[] a) return Arrays.toString(a);
        if (arg instanceof boolean[] a) return Arrays.toString(a);
        if (arg instanceof Object[] a) return Arrays.deepToString(a);
        return arg;
    }
}
