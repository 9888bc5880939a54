package org.streamdl.tensor.testing;

/**
 * How close two values must be: {@code |actual - expected| <= atol + rtol * |expected|}
 * (numpy.allclose's rule).
 */
public record Tolerance(double rtol, double atol) {
    public static final Tolerance EXACT = new Tolerance(0, 0);

    public static Tolerance rtolAtol(double rtol, double atol) {
        return new Tolerance(rtol, atol);
    }

    public boolean accepts(double expected, double actual) {
        if (Double.isNaN(expected) || Double.isNaN(actual)) {
            return Double.isNaN(expected) && Double.isNaN(actual);
        }
        if (Double.isInfinite(expected) || Double.isInfinite(actual)) {
            return expected == actual;
        }
        return Math.abs(actual - expected) <= atol + rtol * Math.abs(expected);
    }
}
