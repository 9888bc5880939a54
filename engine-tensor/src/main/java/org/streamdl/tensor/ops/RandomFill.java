package org.streamdl.tensor.ops;

import java.nio.ByteBuffer;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.ElementAccess;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.StridedCursor;
import org.streamdl.tensor.Tensor;

/**
 * Fills tensors with seeded random values. Elements are drawn in row-major order of the tensor's
 * logical shape, so a seed gives the same values whatever the layout (a transposed view included).
 */
public final class RandomFill {
    private RandomFill() {}

    private interface Draw {
        double next();
    }

    /** Uniform in {@code [low, high)}. */
    public static void uniform(Tensor t, double low, double high, Rng rng) {
        checkFloating("uniform", t);
        Checks.argument(low < high && Double.isFinite(low) && Double.isFinite(high),
                "uniform: needs finite low < high but got [%s, %s)", low, high);
        fill(t, () -> {
            double v;
            do {   // rounding to float32 can land on high: draw again
                v = roundTrip(t.dtype(), low + (high - low) * rng.nextDouble());
            } while (v >= high);
            return v;
        });
    }

    public static void normal(Tensor t, double mean, double std, Rng rng) {
        checkFloating("normal", t);
        Checks.argument(std >= 0 && Double.isFinite(std) && Double.isFinite(mean),
                "normal: needs a finite mean and std >= 0 but got mean %s, std %s", mean, std);
        fill(t, () -> mean + std * rng.nextGaussian());
    }

    /**
     * Normal values redrawn until they fall in {@code [low, high]} (absolute bounds, as
     * {@code torch.nn.init.trunc_normal_}). The interval must hold some probability mass.
     */
    public static void truncatedNormal(Tensor t, double mean, double std, double low, double high, Rng rng) {
        checkFloating("truncatedNormal", t);
        Checks.argument(std > 0 && low < high, "truncatedNormal: needs std > 0 and low < high but got std %s, [%s, %s]",
                std, low, high);
        Checks.argument(high >= mean - 6 * std && low <= mean + 6 * std,
                "truncatedNormal: [%s, %s] lies more than 6 std from the mean %s; almost every draw would be rejected",
                low, high, mean);
        fill(t, () -> {
            double v;
            do {
                v = mean + std * rng.nextGaussian();
            } while (v < low || v > high);
            return v;
        });
    }

    /** 1 with probability {@code p}, else 0 (dropout masks); any dtype. */
    public static void bernoulli(Tensor t, double p, Rng rng) {
        Checks.argument(p >= 0 && p <= 1, "bernoulli: p must be in [0, 1] but was %s", p);
        fill(t, () -> rng.nextDouble() < p ? 1 : 0);
    }

    private static void fill(Tensor t, Draw draw) {
        ByteBuffer out = t.buffer();
        DType dtype = t.dtype();
        int size = dtype.byteSize();
        StridedCursor c = new StridedCursor(t.shape(), t);
        while (c.next()) {
            long o = c.offset(0);
            for (long n = c.rowLength(); n > 0; n--, o += c.innerStride(0)) {
                ElementAccess.store(out, dtype, (int) (o * size), draw.next());
            }
        }
    }

    private static double roundTrip(DType dtype, double v) {
        return dtype == DType.FLOAT32 ? (float) v : ElementAccess.bfloat16ToFloat(ElementAccess.floatToBfloat16((float) v));
    }

    private static void checkFloating(String op, Tensor t) {
        Checks.argument(t.dtype().isFloatingPoint(),
                "%s fills floating-point tensors but got %s", op, t.dtype());
    }
}
