package org.streamdl.tensor.spi;

import java.util.Objects;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;

/**
 * An int8 convolution with the geometry, bias and fused ReLU of a {@link Conv2dSpec}:
 * y = act(xScale · wScale[oc] · Σ x·w + bias[oc]), kept as float32 or requantized to uint8/int8 as
 * round(y / outScale), saturated, then optionally max-pooled (no padding). x holds uint8 or int8
 * codes (NCHW), w int8 codes (OIHW) with one scale per output channel; zero points are 0. Max
 * pooling commutes with the monotone rounding, so pooling the codes equals quantizing the pooled
 * values. Rounding is half to even, as oneDNN's.
 */
public final class QuantizedConvSpec {
    private int hash;
    private final Conv2dSpec conv;
    private final DType activation;
    private final DType output;
    private final boolean floatInput;
    private final long poolKernel;    // 0: no pooling
    private final long poolStride;
    private final Shape outputShape;     // derived, kept: checked on every call

    private QuantizedConvSpec(Conv2dSpec conv, DType activation, DType output, boolean floatInput, long poolKernel,
                              long poolStride) {
        Checks.argument(activation == DType.UINT8 || activation == DType.INT8,
                "quantized conv2d: activations are uint8 or int8, not %s", activation);
        Checks.argument(output == DType.FLOAT32 || output == DType.UINT8 || output == DType.INT8,
                "quantized conv2d: the output is float32, uint8 or int8, not %s", output);
        Checks.argument(poolKernel >= 0 && (poolKernel == 0 || poolStride > 0),
                "quantized conv2d: max pooling kernel %s and stride %s must be positive", poolKernel, poolStride);
        Checks.argument(poolKernel <= conv.outH() && poolKernel <= conv.outW(),
                "quantized conv2d: a %sx%s max pooling does not fit the convolution output %s", poolKernel, poolKernel,
                conv.outputShape());
        this.conv = conv.withDType(DType.FLOAT32);
        this.activation = activation;
        this.output = output;
        this.floatInput = floatInput;
        this.poolKernel = poolKernel;
        this.poolStride = poolKernel == 0 ? 0 : poolStride;
        Shape c = this.conv.outputShape();
        this.outputShape = poolKernel == 0 ? c : Shape.of(c.dim(0), c.dim(1), (c.dim(2) - poolKernel) / poolStride + 1,
                (c.dim(3) - poolKernel) / poolStride + 1);
    }

    /** {@code conv}'s geometry, bias and ReLU on {@code activation} codes, float32 output, no pooling. */
    public static QuantizedConvSpec of(Conv2dSpec conv, DType activation) {
        return new QuantizedConvSpec(conv, activation, DType.FLOAT32, false, 0, 0);
    }

    public QuantizedConvSpec withOutput(DType newOutput) {
        return new QuantizedConvSpec(conv, activation, newOutput, floatInput, poolKernel, poolStride);
    }

    /** x arrives as float32 and the plan quantizes it (round(x / xScale), saturated) on the way in. */
    public QuantizedConvSpec withFloatInput(boolean quantizeInput) {
        return new QuantizedConvSpec(conv, activation, output, quantizeInput, poolKernel, poolStride);
    }

    /** Max pooling of {@code kernel}x{@code kernel} windows every {@code stride} after the convolution; 0 for none. */
    public QuantizedConvSpec withMaxPool(long kernel, long stride) {
        return new QuantizedConvSpec(conv, activation, output, floatInput, kernel, stride);
    }

    /** The same computation for another input shape (another batch size). */
    public QuantizedConvSpec withInput(Shape input) {
        return new QuantizedConvSpec(conv.withInput(input), activation, output, floatInput, poolKernel, poolStride);
    }

    public Conv2dSpec conv() {
        return conv;
    }

    public DType activation() {
        return activation;
    }

    public DType output() {
        return output;
    }

    public boolean floatInput() {
        return floatInput;
    }

    public boolean pooled() {
        return poolKernel > 0;
    }

    public long poolKernel() {
        return poolKernel;
    }

    public long poolStride() {
        return poolStride;
    }

    public Shape inputShape() {
        return conv.inputShape();
    }

    public Shape weightShape() {
        return conv.weightShape();
    }

    /** The convolution's output, pooled when pooling is asked. */
    public Shape outputShape() {
        return outputShape;
    }

    public double ops() {
        return conv.flops();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantizedConvSpec s && conv.equals(s.conv) && activation == s.activation && output == s.output
                && floatInput == s.floatInput && poolKernel == s.poolKernel && poolStride == s.poolStride;
    }

    @Override
    public int hashCode() {
        int h = hash;
        if (h == 0) {   // specs are looked up in plan caches on every call
            h = Objects.hash(conv, activation, output, floatInput, poolKernel, poolStride);
            hash = h;
        }
        return h;
    }

    @Override
    public String toString() {
        return Checks.format("int8 %s on %s → %s%s", conv, floatInput ? "float32→" + activation : activation, output,
                pooled() ? Checks.format(" then maxpool %sx%s/%s", poolKernel, poolKernel, poolStride) : "");
    }
}
