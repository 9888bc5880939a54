package org.streamdl.dnn.layers;

import java.util.List;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.NamedTensor;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;
import org.streamdl.tensor.spi.MatmulSpec;

/**
 * A Linear layer in bfloat16 for inference: bfloat16 weights, the float32 input rounded to
 * bfloat16 (nearest even) by the kernel, products accumulated in float32 with the float32 bias and an optional
 * fused ReLU. Half the weight memory of float32 and the CPU's bf16 dot-product instructions.
 */
public final class Bfloat16Linear implements Layer {
    private final String name;
    private final Tensor weights;   // bfloat16 (out, in)
    private final Tensor bias;      // float32 (out) or null
    private final boolean relu;
    private MatmulSpec lastSpec;   // for the last input shape: specs are looked up on every call

    public Bfloat16Linear(String name, Tensor weights, Tensor bias, boolean relu) {
        Checks.argument(weights.dtype() == DType.BFLOAT16 && weights.rank() == 2,
                "%s: weights must be bfloat16 (out, in) but are %s %s", name, weights.dtype(), weights.shape());
        this.name = name;
        this.weights = weights;
        this.bias = bias;
        this.relu = relu;
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        long in = weights.shape().dim(1);
        Checks.argument(x.rank() == 2 && x.shape().dim(1) == in, "%s: expected input (N, %s) but got %s", this, in, x.shape());
        // a float32 input is rounded to bfloat16 inside the plan, in one vectorized pass
        Tensor a = x.dtype() == DType.BFLOAT16 ? x : x.dtype() == DType.FLOAT32 ? x.contiguous(ctx.step())
                : Convert.to(x, DType.FLOAT32, ctx.step());
        MatmulSpec spec = lastSpec;
        if (spec == null || !spec.aShape().equals(a.shape()) || spec.aType() != a.dtype()) {
            spec = MatmulSpec.of(a.shape(), weights.shape(), false, true).withDType(DType.BFLOAT16)
                    .withBias(bias != null).withRelu(relu).withWeightsB(true).withFloatInput(a.dtype() == DType.FLOAT32);
            lastSpec = spec;
        }
        Tensor y = ctx.step().allocateUninitialized(DType.FLOAT32, spec.cShape());
        ctx.kernels().matmul(spec).execute(a, weights, bias, y);
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        throw new UnsupportedOperationException(name + ": bfloat16 layers run inference only; train in float32");
    }

    @Override
    public List<NamedTensor> buffers() {
        return bias == null ? List.of(new NamedTensor(name + ".weight_bf16", weights))
                : List.of(new NamedTensor(name + ".weight_bf16", weights), new NamedTensor(name + ".bias", bias));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("Bfloat16Linear", name, "in", weights.shape().dim(1), "out", weights.shape().dim(0),
                "bias", bias != null, "relu", relu);
    }

    @Override
    public String toString() {
        return name + " (bf16 Linear " + weights.shape().dim(1) + "→" + weights.shape().dim(0) + (relu ? " +relu" : "") + ")";
    }
}
