package org.streamdl.dnn.layers;

import java.util.Arrays;
import org.streamdl.dnn.Context;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * Removes (squeeze) or inserts (unsqueeze) extent-1 axes at the given positions of the full shape,
 * batch axis included: ONNX Squeeze and Unsqueeze. A view, no copy, for contiguous input.
 */
public final class Squeeze implements Layer {
    private final String name;
    private final boolean insert;
    private final int[] axes;
    private Shape inputShape;

    private Squeeze(String name, boolean insert, int[] axes) {
        this.name = name;
        this.insert = insert;
        this.axes = axes.clone();
    }

    public static Squeeze squeeze(String name, int... axes) {
        return new Squeeze(name, false, axes);
    }

    public static Squeeze unsqueeze(String name, int... axes) {
        return new Squeeze(name, true, axes);
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        inputShape = x.shape();
        long[] dims = insert ? inserted(x.shape()) : removed(x.shape());
        return x.contiguous(ctx.step()).reshape(dims);
    }

    private long[] removed(Shape in) {
        boolean[] drop = new boolean[in.rank()];
        for (int a : axes) {
            int axis = a < 0 ? a + in.rank() : a;
            Checks.argument(axis > 0 && axis < in.rank() && in.dim(axis) == 1,
                    "%s: cannot squeeze axis %s of %s (only extent-1 axes after the batch axis)", this, a, in);
            drop[axis] = true;
        }
        long[] out = new long[in.rank()];
        int n = 0;
        for (int i = 0; i < in.rank(); i++) {
            if (!drop[i]) {
                out[n++] = in.dim(i);
            }
        }
        return Arrays.copyOf(out, n);
    }

    private long[] inserted(Shape in) {
        int rank = in.rank() + axes.length;
        boolean[] add = new boolean[rank];
        for (int a : axes) {
            int axis = a < 0 ? a + rank : a;
            Checks.argument(axis > 0 && axis < rank, "%s: cannot insert axis %s into %s (only after the batch axis)", this, a, in);
            add[axis] = true;
        }
        long[] out = new long[rank];
        for (int i = 0, from = 0; i < rank; i++) {
            out[i] = add[i] ? 1 : in.dim(from++);
        }
        return out;
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
        return LayerConfig.of(insert ? "Unsqueeze" : "Squeeze", name, "axes", Reshape.format(Arrays.stream(axes).asLongStream().toArray()));
    }

    @Override
    public String toString() {
        return name + " (" + (insert ? "Unsqueeze " : "Squeeze ") + Arrays.toString(axes) + ")";
    }
}
