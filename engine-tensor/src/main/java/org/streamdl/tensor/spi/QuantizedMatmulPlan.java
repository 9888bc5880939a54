package org.streamdl.tensor.spi;

import org.streamdl.tensor.DType;
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
        OperandCheck.check(spec, "a", spec.aShape(), spec.floatInput() ? DType.FLOAT32 : spec.activation(), a);
        OperandCheck.check(spec, "w", spec.weightShape(), DType.INT8, w);
        OperandCheck.check(spec, "wScales", spec.columnShape(), DType.FLOAT32, wScales);
        if (spec.hasBias()) {
            OperandCheck.check(spec, "bias", spec.columnShape(), DType.FLOAT32, bias);
        }
        OperandCheck.check(spec, "c", spec.cShape(), spec.output(), c);
    }
}
