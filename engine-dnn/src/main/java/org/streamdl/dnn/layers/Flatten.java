package org.streamdl.dnn.layers;

import org.streamdl.dnn.Context;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/** (N, d1, d2, ...) → (N, d1·d2·...): a view, no copy, for contiguous input. */
public final class Flatten implements Layer {
    private final String name;
    private Shape inputShape;

    public Flatten(String name) {
        this.name = name;
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        Checks.argument(x.rank() >= 1, "%s: cannot flatten a scalar", name);
        inputShape = x.shape();
        return x.contiguous(ctx.step()).reshape(x.shape().dim(0), -1);
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        return dy.contiguous(ctx.step()).reshape(inputShape);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("Flatten", name);
    }
}
