package org.streamdl.dnn.layers;

import org.streamdl.dnn.Context;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;

/** Permutes the axes of each sample (the batch axis stays first), copying into a contiguous result. */
public final class Transpose implements Layer {
    private final String name;
    private final int[] order;
    private final int[] inverse;

    /** {@code order} over all axes including the batch axis, which must map to itself. */
    public Transpose(String name, int... order) {
        Checks.argument(order.length >= 1 && order[0] == 0, "%s: the batch axis must stay first but the order is %s",
                name, java.util.Arrays.toString(order));
        this.name = name;
        this.order = order.clone();
        this.inverse = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            inverse[order[i]] = i;
        }
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        Checks.argument(x.rank() == order.length, "%s: expected an input of rank %s but got %s", this, order.length, x.shape());
        return x.permute(order).contiguous(ctx.step());
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        return dy.permute(inverse).contiguous(ctx.step());
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("Transpose", name, "order", Reshape.format(java.util.Arrays.stream(order).asLongStream().toArray()));
    }

    @Override
    public String toString() {
        return name + " (Transpose " + java.util.Arrays.toString(order) + ")";
    }
}
