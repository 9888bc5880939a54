package org.streamdl.dnn.layers;

import java.util.List;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Parameter;
import org.streamdl.tensor.Tensor;

/**
 * A network layer with its own forward and backward (no tape): {@link #forward} keeps what
 * {@link #backward} needs, so calls alternate forward, backward, forward... within one step.
 * Outputs and gradients are allocated in the context's step allocator; parameters live in the
 * model's allocator. Not thread-safe.
 */
public interface Layer {

    /** Unique within a model; prefixes the layer's parameter names. */
    String name();

    Tensor forward(Tensor x, Context ctx);

    /**
     * dL/dx from dL/dy; writes the gradients of this layer's parameters. Returns null after
     * {@link #skipInputGradient()}.
     */
    Tensor backward(Tensor dy, Context ctx);

    /**
     * Nothing will consume dL/dx (this layer reads the model's input): backward may skip computing
     * it. For a first convolution that is the costliest pass of a training step.
     */
    default void skipInputGradient() {
    }

    default List<Parameter> parameters() {
        return List.of();
    }

    /** Non-trainable state saved with the model (running statistics); none by default. */
    default List<org.streamdl.dnn.NamedTensor> buffers() {
        return List.of();
    }

    /** The type and attributes that rebuild this layer (the architecture in a model file). */
    LayerConfig config();
}
