package org.streamdl.tensor.spi;

import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;

/**
 * An int8 convolution prepared for one {@link QuantizedConvSpec}. Contiguous operands. As with
 * {@link QuantizedMatmulPlan}, quantized weights are immutable: a backend may keep its own reordered
 * copy of a weights tensor for as long as it is passed in. Not thread-safe.
 */
public interface QuantizedConvPlan extends AutoCloseable {

    QuantizedConvSpec spec();

    /**
     * y from x (codes, or float32 when the spec quantizes its input) and w (int8 codes), with the
     * input scale, the weights' per-output-channel scales (float32, OC), an optional float32 bias
     * (OC), and {@code outScale} when the output is quantized.
     */
    void execute(Tensor x, float xScale, Tensor w, Tensor wScales, Tensor bias, float outScale, Tensor y);

    @Override
    void close();

    /** Throws {@link IllegalArgumentException} naming the operand that does not match the spec. */
    static void checkOperands(QuantizedConvSpec spec, Tensor x, Tensor w, Tensor wScales, Tensor bias, Tensor y) {
        OperandCheck.check(spec, "x", spec.inputShape(), spec.floatInput() ? DType.FLOAT32 : spec.activation(), x);
        OperandCheck.check(spec, "w", spec.weightShape(), DType.INT8, w);
        OperandCheck.check(spec, "wScales", spec.conv().biasShape(), DType.FLOAT32, wScales);
        if (spec.conv().hasBias()) {
            OperandCheck.check(spec, "bias", spec.conv().biasShape(), DType.FLOAT32, bias);
        }
        OperandCheck.check(spec, "y", spec.outputShape(), spec.output(), y);
    }
}
