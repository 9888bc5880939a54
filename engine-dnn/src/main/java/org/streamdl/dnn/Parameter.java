package org.streamdl.dnn;

import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;

/**
 * A trainable tensor and its gradient, named with dots ({@code conv1.weight}); the name is the same
 * in model files, optimizer state, Flink state and metrics. Both tensors belong to the model's
 * allocator. A backward pass overwrites {@link #grad()}.
 */
public final class Parameter {
    private final String name;
    private final Tensor value;
    private final Tensor grad;

    public Parameter(String name, Tensor value, Tensor grad) {
        Checks.argument(value.shape().equals(grad.shape()) && value.dtype() == grad.dtype(),
                "parameter '%s': gradient %s %s differs from value %s %s", name, grad.dtype(), grad.shape(),
                value.dtype(), value.shape());
        Checks.argument(value.isContiguous() && grad.isContiguous(), "parameter '%s' must be contiguous", name);
        this.name = name;
        this.value = value;
        this.grad = grad;
    }

    public String name() {
        return name;
    }

    public Tensor value() {
        return value;
    }

    public Tensor grad() {
        return grad;
    }

    @Override
    public String toString() {
        return name + " " + value.shape();
    }
}
