package org.streamdl.dnn.layers;

import java.util.ArrayList;
import java.util.List;
import org.streamdl.dnn.Context;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Elementwise;

/**
 * The sum of its inputs with NumPy broadcasting (residual connections, bias-like additions). An
 * input that was broadcast gets its gradient summed over the broadcast axes.
 */
public final class Add implements MultiInputLayer {
    private final String name;
    private List<Shape> shapes;
    private Shape outputShape;

    public Add(String name) {
        this.name = name;
    }

    @Override
    public Tensor forward(List<Tensor> inputs, Context ctx) {
        Checks.argument(!inputs.isEmpty(), "%s: needs at least one input", name);
        shapes = new ArrayList<>();
        Tensor sum = inputs.get(0).contiguous(ctx.step());
        shapes.add(sum.shape());
        for (int i = 1; i < inputs.size(); i++) {
            shapes.add(inputs.get(i).shape());
            sum = Elementwise.add(sum, inputs.get(i), ctx.step());
        }
        outputShape = sum.shape();
        return sum;
    }

    @Override
    public List<Tensor> backwardAll(Tensor dy, Context ctx) {
        Checks.state(shapes != null, "%s: backward before forward", name);
        List<Tensor> grads = new ArrayList<>();
        for (Shape shape : shapes) {
            grads.add(Arithmetic.reduceTo(dy, shape, outputShape, ctx.step()));
        }
        return grads;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("Add", name);
    }

    @Override
    public String toString() {
        return name + " (Add)";
    }
}
