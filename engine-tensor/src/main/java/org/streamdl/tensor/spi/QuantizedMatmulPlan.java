package org.streamdl.tensor.spi;

import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * An int8 product prepared for one {@link QuantizedMatmulSpec}. Contiguous operands. Quantized
 * weights are immutable: a backend may keep its own packed copy of a weights tensor for as long as
 * it is passed in, so pass a different tensor to use other weights. Not thread-safe.
 */
public interface QuantizedMatmulPlan extends AutoCloseable {

    QuantizedMatmulSpec spec();

    /**
     * c from a (codes) and w (int8 codes), with the activation scale, the weights' per-column scales
     * (float32, n), an optional float32 bias (n), and {@code outScale} when the output is quantized.
     */
    void execute(Tensor a, float aScale, Tensor w, Tensor wScales, Tensor bias, float outScale, Tensor c);

    @Override
    void close();

    /** Throws {@link IllegalArgumentException} naming the operand that does not match the spec. */
    static void checkOperands(QuantizedMatmulSpec spec, Tensor a, Tensor w, Tensor wScales, Tensor bias, Tensor c) {
        check(spec, "a", spec.aShape(), spec.floatInput() ? DType.FLOAT32 : spec.activation(), a);
        check(spec, "w", spec.weightShape(), DType.INT8, w);
        check(spec, "wScales", Shape.of(spec.n()), DType.FLOAT32, wScales);
        if (spec.hasBias()) {
            check(spec, "bias", Shape.of(spec.n()), DType.FLOAT32, bias);
        }
        check(spec, "c", spec.cShape(), spec.output(), c);
    }

    private static void check(QuantizedMatmulSpec spec, String name, Shape shape, DType dtype, Tensor t) {
        if (t == null) {
            throw new IllegalArgumentException(Checks.format("%s: operand %s is missing", spec, name));
        }
        if (!t.shape().equals(shape) || t.dtype() != dtype) {
            throw new IllegalArgumentException(Checks.format("%s: operand %s is %s %s but the plan expects %s %s", spec, name, t.dtype(), t.shape(), dtype, shape));
        }
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(Checks.format("%s: operand %s must be contiguous", spec, name));
        }
    }
}
