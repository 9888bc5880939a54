package org.streamdl.tensor.testing;

import static org.junit.jupiter.api.Assertions.fail;

import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/**
 * Element-wise comparisons that report the first mismatches by index and the maximum error. An
 * all-zero or non-finite expectation is refused (it would let a broken kernel pass), unless the
 * caller says it is intended with {@link #assertCloseAllowingTrivial}.
 */
public final class TensorAssertions {
    private static final int REPORTED_MISMATCHES = 5;

    private TensorAssertions() {}

    public static void assertClose(Tensor expected, Tensor actual, Tolerance tolerance) {
        if (!expected.shape().equals(actual.shape())) {
            fail("shape: expected " + expected.shape() + " but was " + actual.shape());
        }
        assertClose(Convert.toDoubleArray(expected), Convert.toDoubleArray(actual), tolerance, expected.shape());
    }

    public static void assertClose(double[] expected, Tensor actual, Tolerance tolerance) {
        assertClose(expected, Convert.toDoubleArray(actual), tolerance, actual.shape());
    }

    public static void assertClose(float[] expected, Tensor actual, Tolerance tolerance) {
        assertClose(toDoubles(expected), Convert.toDoubleArray(actual), tolerance, actual.shape());
    }

    public static void assertClose(float[] expected, float[] actual, Tolerance tolerance) {
        assertClose(toDoubles(expected), toDoubles(actual), tolerance, Shape.of(expected.length));
    }

    public static void assertClose(double[] expected, double[] actual, Tolerance tolerance, Shape shape) {
        refuseTrivial(expected);
        compare(expected, actual, tolerance, shape);
    }

    /** For results that are legitimately all zero (a ReLU of negatives, a zero fill). */
    public static void assertCloseAllowingTrivial(double[] expected, Tensor actual, Tolerance tolerance) {
        compare(expected, Convert.toDoubleArray(actual), tolerance, actual.shape());
    }

    private static void refuseTrivial(double[] expected) {
        boolean allZero = true;
        for (double v : expected) {
            if (!Double.isFinite(v)) {
                return; // non-finite values are compared exactly; a mix is a deliberate test
            }
            allZero &= v == 0;
        }
        if (allZero && expected.length > 0) {
            fail("the expectation is all zero: a test against it cannot tell a broken kernel from a working one");
        }
    }

    private static void compare(double[] expected, double[] actual, Tolerance tolerance, Shape shape) {
        if (expected.length != actual.length) {
            fail("element count: expected " + expected.length + " but was " + actual.length);
        }
        StringBuilder mismatches = new StringBuilder();
        int count = 0;
        double maxError = 0;
        for (int i = 0; i < expected.length; i++) {
            double error = Math.abs(actual[i] - expected[i]);
            if (!Double.isNaN(error)) {
                maxError = Math.max(maxError, error);
            }
            if (!tolerance.accepts(expected[i], actual[i])) {
                if (count < REPORTED_MISMATCHES) {
                    mismatches.append("\n  [").append(i).append("] expected ").append(expected[i])
                            .append(" but was ").append(actual[i]);
                }
                count++;
            }
        }
        if (count > 0) {
            fail(count + " of " + expected.length + " elements of " + shape + " differ beyond " + tolerance
                    + " (max abs error " + maxError + "):" + mismatches);
        }
    }

    private static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
