package org.streamdl.dnn.layers;

import java.util.List;
import org.streamdl.dnn.Context;
import org.streamdl.tensor.Tensor;

/** A layer over several inputs (residual sums, concatenation), used as a node of a {@link Graph}. */
public interface MultiInputLayer extends Layer {

    Tensor forward(List<Tensor> inputs, Context ctx);

    /** The gradient of each input, in input order. */
    List<Tensor> backwardAll(Tensor dy, Context ctx);

    @Override
    default Tensor forward(Tensor x, Context ctx) {
        return forward(List.of(x), ctx);
    }

    @Override
    default Tensor backward(Tensor dy, Context ctx) {
        return backwardAll(dy, ctx).get(0);
    }
}
