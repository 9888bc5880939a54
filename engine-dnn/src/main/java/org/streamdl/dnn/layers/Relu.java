package org.streamdl.dnn.layers;

import org.streamdl.dnn.Context;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Elementwise;

/** max(x, 0). After a layer that {@link FusesRelu}, containers fuse it into that layer instead. */
public final class Relu implements Layer {
    private final String name;
    private Tensor output;

    public Relu(String name) {
        this.name = name;
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        output = Elementwise.relu(x, ctx.step());
        return output;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Checks.state(output != null, "%s: backward before forward", name);
        return Activations.reluMask(dy.contiguous(ctx.step()), output, ctx.step());
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("ReLU", name);
    }

    @Override
    public String toString() {
        return name + " (ReLU)";
    }
}
