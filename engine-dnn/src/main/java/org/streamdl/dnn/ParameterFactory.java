package org.streamdl.dnn;

import org.streamdl.dnn.init.Initializer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
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
    private final DType dtype;

    public ParameterFactory(Allocator allocator, long seed) {
        this(allocator, seed, DType.FLOAT32);
    }

    /**
     * Parameters of {@code dtype}: float32 for models, float64 for gradient checks on the
     * reference kernels. The initial values are the same draws either way.
     */
    public ParameterFactory(Allocator allocator, long seed, DType dtype) {
        Checks.argument(dtype == DType.FLOAT32 || dtype == DType.FLOAT64,
                "parameters are float32 or float64, not %s", dtype);
        this.allocator = allocator;
        this.rng = new Rng(seed);
        this.dtype = dtype;
    }

    public DType dtype() {
        return dtype;
    }

    public Parameter create(String name, Shape shape, Initializer initializer, long fanIn, long fanOut) {
        Tensor value = allocator.allocate(dtype, shape);
        Tensor grad = allocator.allocate(dtype, shape);
        initializer.initialize(value, fanIn, fanOut, rng);
        return new Parameter(name, value, grad);
    }

    public Allocator allocator() {
        return allocator;
    }
}
