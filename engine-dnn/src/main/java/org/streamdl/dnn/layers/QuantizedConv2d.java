package org.streamdl.dnn.layers;

import java.util.List;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.NamedTensor;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.Conv2dSpec;
import org.streamdl.tensor.spi.QuantizedConvSpec;

/**
 * A Conv2d layer in int8 for inference, with its ReLU and a following max pooling fused: int8
 * weights with one scale per output channel, a float32 bias. Input and output follow
 * {@link QuantizedLinear}: a float32 input is quantized with the calibrated input scale, codes are
 * taken as they come, and the output is float32 or codes requantized for the next int8 layer.
 */
public final class QuantizedConv2d implements Layer {
    private final String name;
    private final Conv2dSpec template;   // geometry, bias and ReLU; the batch comes from each input
    private final Tensor weights;        // int8 (OC, C/groups, KH, KW)
    private final Tensor scales;         // float32 (OC)
    private final Tensor bias;           // float32 (OC) or null
    private final float inputScale;
    private final DType inputType;
    private final float outputScale;
    private final DType outputType;
    private final int poolKernel;        // 0: no pooling
    private final int poolStride;
    private QuantizedConvSpec lastSpec;   // for the last input shape: specs are looked up on every call

    public QuantizedConv2d(String name, Conv2dSpec template, Tensor weights, Tensor scales, Tensor bias, float inputScale,
                           DType inputType, float outputScale, DType outputType, int poolKernel, int poolStride) {
        Checks.argument(weights.dtype() == DType.INT8 && weights.shape().equals(template.weightShape()),
                "%s: weights must be int8 %s but are %s %s", name, template.weightShape(), weights.dtype(), weights.shape());
        Checks.argument(template.hasBias() == (bias != null), "%s: the bias is %s but the geometry says %s", name,
                bias == null ? "missing" : "given", template.hasBias() ? "bias" : "no bias");
        Checks.argument(inputScale > 0 && (outputType == DType.FLOAT32 || outputScale > 0),
                "%s: scales must be > 0 but are %s (input) and %s (output)", name, inputScale, outputScale);
        this.name = name;
        this.template = template;
        this.weights = weights;
        this.scales = scales;
        this.bias = bias;
        this.inputScale = inputScale;
        this.inputType = inputType;
        this.outputScale = outputScale;
        this.outputType = outputType;
        this.poolKernel = poolKernel;
        this.poolStride = poolStride;
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        if (x.rank() != 4 || x.shape().dim(1) != template.inChannels()) {
            throw new IllegalArgumentException(Checks.format("%s: expected input (N, %s, H, W) but got %s", this,
                    template.inChannels(), x.shape()));
        }
        boolean floatInput = QuantizedLinear.takesFloat(this, x, inputType);
        QuantizedConvSpec spec = lastSpec;
        if (spec == null || !spec.inputShape().equals(x.shape()) || spec.floatInput() != floatInput) {
            spec = QuantizedConvSpec.of(template.withInput(x.shape()), inputType).withOutput(outputType)
                    .withFloatInput(floatInput).withMaxPool(poolKernel, poolStride);
            lastSpec = spec;
        }
        Tensor y = ctx.step().allocateUninitialized(outputType, spec.outputShape());
        ctx.kernels().quantizedConv(spec).execute(x.contiguous(ctx.step()), inputScale, weights, scales, bias, outputScale, y);
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        throw new UnsupportedOperationException(name + ": int8 layers run inference only; train in float32, then quantize");
    }

    @Override
    public List<NamedTensor> buffers() {
        return QuantizedLinear.int8Buffers(name, weights, scales, bias);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("QuantizedConv2d", name, "in", template.inChannels(), "out", template.outChannels(),
                "kernelH", template.kernelH(), "kernelW", template.kernelW(), "stride", template.strideH(),
                "padding", template.padH(), "dilation", template.dilationH(), "groups", template.groups(),
                "bias", bias != null, "relu", template.relu(), "inputScale", inputScale, "inputType", inputType.toString(),
                "outputScale", outputScale, "outputType", outputType.toString(), "poolKernel", poolKernel,
                "poolStride", poolStride);
    }

    @Override
    public String toString() {
        return name + " (int8 Conv2d " + template.inChannels() + "→" + template.outChannels() + ", " + template.kernelH() + "x"
                + template.kernelW() + (template.relu() ? " +relu" : "") + (poolKernel > 0 ? " +maxpool" + poolKernel : "")
                + ", in " + inputType + " ×" + inputScale + ", out " + outputType
                + (outputType == DType.FLOAT32 ? "" : " ×" + outputScale) + ")";
    }
}
