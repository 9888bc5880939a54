package org.streamdl.dnn.layers;

import java.util.List;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Values;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.RandomFill;

/**
 * A lookup table: int32 indices (...) → rows of W (..., dim), W (vocabulary, dim) initialized
 * N(0, 1) as PyTorch's Embedding. Backward adds each row's gradient into W's gradient; indices have
 * no gradient.
 */
public final class Embedding implements Layer {
    private final String name;
    private final int vocabulary;
    private final int dim;
    private final Parameter weight;
    private int[] indices;

    public Embedding(ParameterFactory params, String name, int vocabulary, int dim) {
        Checks.argument(vocabulary > 0 && dim > 0, "%s: vocabulary and dim must be positive", name);
        this.name = name;
        this.vocabulary = vocabulary;
        this.dim = dim;
        this.weight = params.create(name + ".weight", Shape.of(vocabulary, dim),
                (t, fanIn, fanOut, rng) -> RandomFill.normal(t, 0, 1, rng), vocabulary, dim);
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        Checks.argument(x.dtype() == DType.INT32, "%s: expected int32 indices but got %s", this, x.dtype());
        indices = org.streamdl.tensor.ops.Convert.toIntArray(x);
        long[] dims = new long[x.rank() + 1];
        System.arraycopy(x.shape().dims(), 0, dims, 0, x.rank());
        dims[x.rank()] = dim;
        Tensor y = ctx.step().allocateUninitialized(weight.value().dtype(), Shape.of(dims));
        Values w = Values.of(weight.value());
        Values out = Values.of(y);
        double[] row = new double[dim];
        for (int i = 0; i < indices.length; i++) {
            int index = indices[i];
            Checks.argument(index >= 0 && index < vocabulary, "%s: index %s at position %s is outside [0, %s)",
                    this, index, i, vocabulary);
            w.get(index * dim, row, dim);
            out.set(i * dim, row, dim);
        }
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Checks.state(indices != null, "%s: backward before forward", this);
        Values g = Values.of(dy.contiguous(ctx.step()));
        Values wg = Values.of(weight.grad());
        for (int i = 0; i < wg.size(); i++) {
            wg.set(i, 0);
        }
        for (int i = 0; i < indices.length; i++) {
            int row = indices[i] * dim;
            for (int j = 0; j < dim; j++) {
                wg.add(row + j, g.get(i * dim + j));
            }
        }
        return null;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight);
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("Embedding", name, "vocabulary", vocabulary, "dim", dim);
    }

    @Override
    public String toString() {
        return name + " (Embedding " + vocabulary + "x" + dim + ")";
    }
}
