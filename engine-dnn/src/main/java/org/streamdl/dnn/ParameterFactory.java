package org.streamdl.dnn;

import org.streamdl.dnn.init.Initializer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * Creates a model's parameters in the model's allocator, initialized from one seeded generator in
 * the order layers are built, so a seed gives the same model every time.
 */
public final class ParameterFactory {
    private final Allocator allocator;
    private final Rng rng;

    public ParameterFactory(Allocator allocator, long seed) {
        this.allocator = allocator;
        this.rng = new Rng(seed);
    }

    public Parameter create(String name, Shape shape, Initializer initializer, long fanIn, long fanOut) {
        Tensor value = allocator.allocate(DType.FLOAT32, shape);
        Tensor grad = allocator.allocate(DType.FLOAT32, shape);
        initializer.initialize(value, fanIn, fanOut, rng);
        return new Parameter(name, value, grad);
    }

    public Allocator allocator() {
        return allocator;
    }
}
