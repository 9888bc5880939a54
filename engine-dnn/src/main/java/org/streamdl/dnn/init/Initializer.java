package org.streamdl.dnn.init;

import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Elementwise;
import org.streamdl.tensor.ops.RandomFill;

/**
 * Fills a new parameter. {@code fanIn} and {@code fanOut} are the input and output connections of
 * one unit (for a convolution, channels times kernel area), as in Glorot and Bengio (2010) and He et
 * al. (2015).
 */
@FunctionalInterface
public interface Initializer {

    void initialize(Tensor t, long fanIn, long fanOut, Rng rng);

    /**
     * PyTorch's default for Linear and Conv weights, kaiming_uniform with a = √5: U(−b, b) with
     * b = 1/√fanIn. PyTorch's default bias uses the same bound.
     */
    static Initializer pytorchDefault() {
        return (t, fanIn, fanOut, rng) -> {
            double bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
            if (bound == 0) {
                Elementwise.fill(t, 0);
            } else {
                RandomFill.uniform(t, -bound, bound, rng);
            }
        };
    }

    /** Glorot/Xavier uniform: U(−b, b), b = gain·√(6 / (fanIn + fanOut)). */
    static Initializer xavierUniform(double gain) {
        return (t, fanIn, fanOut, rng) -> RandomFill.uniform(t, -bound(gain, fanIn, fanOut), bound(gain, fanIn, fanOut), rng);
    }

    /** Glorot/Xavier normal: N(0, gain²·2 / (fanIn + fanOut)). */
    static Initializer xavierNormal(double gain) {
        return (t, fanIn, fanOut, rng) -> RandomFill.normal(t, 0, gain * Math.sqrt(2.0 / (fanIn + fanOut)), rng);
    }

    /** He/Kaiming normal for ReLU networks: N(0, 2 / fanIn). */
    static Initializer kaimingNormal() {
        return (t, fanIn, fanOut, rng) -> {
            Checks.argument(fanIn > 0, "kaimingNormal needs fanIn > 0");
            RandomFill.normal(t, 0, Math.sqrt(2.0 / fanIn), rng);
        };
    }

    /** He/Kaiming uniform for ReLU networks: U(−b, b), b = √(6 / fanIn). */
    static Initializer kaimingUniform() {
        return (t, fanIn, fanOut, rng) -> {
            Checks.argument(fanIn > 0, "kaimingUniform needs fanIn > 0");
            double b = Math.sqrt(6.0 / fanIn);
            RandomFill.uniform(t, -b, b, rng);
        };
    }

    static Initializer constant(double value) {
        return (t, fanIn, fanOut, rng) -> Elementwise.fill(t, value);
    }

    private static double bound(double gain, long fanIn, long fanOut) {
        Checks.argument(fanIn + fanOut > 0, "xavier initialization needs fanIn + fanOut > 0");
        return gain * Math.sqrt(6.0 / (fanIn + fanOut));
    }
}
