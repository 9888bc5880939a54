package org.streamdl.dnn.layers;

import java.util.List;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.init.Initializer;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Reduce;
import org.streamdl.tensor.spi.MatmulSpec;

/** Fully connected layer, y = x·Wᵀ + b. Shapes: x (N, in), W (out, in), b (out) → y (N, out). */
public final class Linear implements Layer, FusesRelu {
    private final String name;
    private final int in;
    private final int out;
    private final Parameter weight;   // "fc1.weight" (out, in)
    private final Parameter bias;     // "fc1.bias" (out), or null
    private boolean relu;
    private MatmulSpec lastSpec;   // for the last input shape: rebuilding it per call was most of a call's garbage
    private boolean inputGradient = true;
    private Tensor input;             // kept by forward for backward
    private Tensor output;            // kept when a ReLU is fused, for its mask

    public Linear(ParameterFactory params, String name, int in, int out) {
        this(params, name, in, out, true);
    }

    public Linear(ParameterFactory params, String name, int in, int out, boolean withBias) {
        Checks.argument(in > 0 && out > 0, "%s: in and out features must be positive but were %s and %s", name, in, out);
        this.name = name;
        this.in = in;
        this.out = out;
        this.weight = params.create(name + ".weight", Shape.of(out, in), Initializer.pytorchDefault(), in, out);
        this.bias = withBias ? params.create(name + ".bias", Shape.of(out), Initializer.pytorchDefault(), in, out) : null;
    }

    @Override
    public void skipInputGradient() {
        inputGradient = false;
    }

    @Override
    public void fuseRelu() {
        relu = true;
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        if (x.rank() != 2 || x.shape().dim(1) != in) {   // no varargs array on the hot path
            throw new IllegalArgumentException(Checks.format("%s: expected input (N, %s) but got %s%s", this, in, x.shape(),
                    x.rank() > 2 ? "; flatten it first" : ""));
        }
        input = x;
        MatmulSpec spec = lastSpec;
        if (spec == null || !spec.aShape().equals(x.shape()) || spec.dtype() != x.dtype() || spec.relu() != relu) {
            spec = MatmulSpec.of(x.shape(), weight.value().shape(), false, true)
                    .withBias(bias != null).withRelu(relu).withDType(x.dtype()).withWeightsB(true);
            lastSpec = spec;
        }
        Tensor y = ctx.step().allocateUninitialized(x.dtype(), spec.cShape());
        ctx.kernels().matmul(spec).execute(x, weight.value(), bias == null ? null : bias.value(), y);
        output = relu ? y : null;
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Checks.state(input != null, "%s: backward before forward", this);
        Tensor g = relu ? Activations.reluMask(dy, output, ctx.step()) : dy;
        // dW = dyᵀ·x (out, in); db = Σₙ dy (out); dx = dy·W (N, in)
        ctx.kernels().matmul(MatmulSpec.of(g.shape(), input.shape(), true, false).withDType(g.dtype())).execute(g, input, weight.grad());
        if (bias != null) {
            Reduce.sumInto(g, bias.grad(), false, 0);
        }
        if (!inputGradient) {
            return null;
        }
        Tensor dx = ctx.step().allocateUninitialized(input.dtype(), input.shape());
        ctx.kernels().matmul(MatmulSpec.of(g.shape(), weight.value().shape()).withDType(g.dtype())).execute(g, weight.value(), dx);
        return dx;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Parameter> parameters() {
        return bias == null ? List.of(weight) : List.of(weight, bias);
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("Linear", name, "in", in, "out", out, "bias", bias != null);
    }

    /** {@code fc1 (Linear 400→120)}. */
    @Override
    public String toString() {
        return name + " (Linear " + in + "→" + out + (relu ? " +relu" : "") + ")";
    }
}
