package org.streamdl.dnn.layers;

import java.util.Arrays;
import org.streamdl.dnn.Context;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/** Reshapes each sample: (N, ...) → (N, target...); one target extent may be -1. A view, no copy. */
public final class Reshape implements Layer {
    private final String name;
    private final long[] target;
    private Shape inputShape;

    public Reshape(String name, long... target) {
        this.name = name;
        this.target = target.clone();
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        inputShape = x.shape();
        long[] dims = new long[target.length + 1];
        dims[0] = x.shape().dim(0);
        System.arraycopy(target, 0, dims, 1, target.length);
        return x.contiguous(ctx.step()).reshape(dims);
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
        return LayerConfig.of("Reshape", name, "shape", format(target));
    }

    /** Extents as the model file's architecture stores them: "3,-1". */
    static String format(long[] dims) {
        return Arrays.toString(dims).replaceAll("[\\[\\] ]", "");
    }

    static long[] parse(String dims) {
        if (dims.isEmpty()) {
            return new long[0];
        }
        return Arrays.stream(dims.split(",")).mapToLong(Long::parseLong).toArray();
    }
}
