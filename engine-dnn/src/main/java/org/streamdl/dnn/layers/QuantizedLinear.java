package org.streamdl.dnn.layers;

import java.util.List;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.NamedTensor;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.QuantizedMatmulSpec;

/**
 * A Linear layer in int8 for inference: int8 weights with one scale per output, a float32 bias,
 * an optional fused ReLU. A float32 input is quantized with the calibrated input scale; a uint8 or
 * int8 input is taken as already quantized with that scale (the previous int8 layer requantized
 * it). The output is float32, or uint8/int8 with {@code outputScale} for the next int8 layer, so
 * a chain of them never goes back to float32 in between.
 */
public final class QuantizedLinear implements Layer {
    private final String name;
    private final int in;
    private final int out;
    private final Tensor weights;   // int8 (out, in)
    private final Tensor scales;    // float32 (out)
    private final Tensor bias;      // float32 (out) or null
    private final boolean relu;
    private final float inputScale;
    private final DType inputType;
    private final float outputScale;
    private final DType outputType;
    private QuantizedMatmulSpec lastSpec;   // for the last batch size: specs are looked up on every call

    /**
     * @param outputType float32, or uint8/int8 requantized with {@code outputScale}
     */
    public QuantizedLinear(String name, Tensor weights, Tensor scales, Tensor bias, boolean relu, float inputScale,
                           DType inputType, float outputScale, DType outputType) {
        Checks.argument(weights.dtype() == DType.INT8 && weights.rank() == 2, "%s: weights must be int8 (out, in) but are %s %s",
                name, weights.dtype(), weights.shape());
        Checks.argument(inputScale > 0 && (outputType == DType.FLOAT32 || outputScale > 0),
                "%s: scales must be > 0 but are %s (input) and %s (output)", name, inputScale, outputScale);
        this.name = name;
        this.out = (int) weights.shape().dim(0);
        this.in = (int) weights.shape().dim(1);
        this.weights = weights;
        this.scales = scales;
        this.bias = bias;
        this.relu = relu;
        this.inputScale = inputScale;
        this.inputType = inputType;
        this.outputScale = outputScale;
        this.outputType = outputType;
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        if (x.rank() != 2 || x.shape().dim(1) != in) {
            throw new IllegalArgumentException(Checks.format("%s: expected input (N, %s) but got %s", this, in, x.shape()));
        }
        boolean floatInput = takesFloat(this, x, inputType);
        Tensor codes = x.contiguous(ctx.step());
        QuantizedMatmulSpec spec = lastSpec;
        if (spec == null || spec.m() != x.shape().dim(0) || spec.floatInput() != floatInput) {
            spec = QuantizedMatmulSpec.of(x.shape().dim(0), in, out, inputType)
                    .withOutput(outputType).withBias(bias != null).withRelu(relu).withFloatInput(floatInput);
            lastSpec = spec;
        }
        Tensor y = ctx.step().allocateUninitialized(outputType, spec.cShape());
        ctx.kernels().quantizedMatmul(spec).execute(codes, inputScale, weights, scales, bias, outputScale, y);
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        throw new UnsupportedOperationException(name + ": int8 layers run inference only; train in float32, then quantize");
    }

    @Override
    public List<NamedTensor> buffers() {
        return int8Buffers(name, weights, scales, bias);
    }

    /**
     * Whether an int8 layer's input {@code x} is float32, which its kernel quantizes on the way in;
     * otherwise it must already be codes of {@code inputType}.
     */
    static boolean takesFloat(Layer layer, Tensor x, DType inputType) {
        boolean floatInput = x.dtype() == DType.FLOAT32;
        if (!floatInput && x.dtype() != inputType) {
            throw new IllegalArgumentException(Checks.format("%s: expected float32 or %s input but got %s",
                    layer, inputType, x.dtype()));
        }
        return floatInput;
    }

    /** How an int8 layer's tensors are named in the model file: {@code .weight_int8}, {@code .weight_scales}, {@code .bias}. */
    static List<NamedTensor> int8Buffers(String name, Tensor weights, Tensor scales, Tensor bias) {
        return bias == null
                ? List.of(new NamedTensor(name + ".weight_int8", weights), new NamedTensor(name + ".weight_scales", scales))
                : List.of(new NamedTensor(name + ".weight_int8", weights), new NamedTensor(name + ".weight_scales", scales),
                        new NamedTensor(name + ".bias", bias));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("QuantizedLinear", name, "in", in, "out", out, "bias", bias != null, "relu", relu,
                "inputScale", inputScale, "inputType", inputType.toString(), "outputScale", outputScale,
                "outputType", outputType.toString());
    }

    @Override
    public String toString() {
        return name + " (int8 Linear " + in + "→" + out + (relu ? " +relu" : "") + ", in " + inputType + " ×" + inputScale
                + ", out " + outputType + (outputType == DType.FLOAT32 ? "" : " ×" + outputScale) + ")";
    }
}
