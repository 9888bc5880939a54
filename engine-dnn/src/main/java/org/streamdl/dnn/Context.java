package org.streamdl.dnn;

import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Rng;

/**
 * What one forward or backward pass runs with: the allocator its temporaries live in (closed after
 * the step), whether it trains (dropout active, batch statistics) or evaluates, the kernels, and a
 * generator for random layers.
 */
public record Context(Allocator step, boolean training, Kernels kernels, Rng rng) {

    /** A context is one pass: the plans it uses stay cached until the next context begins its own. */
    public Context {
        kernels.beginPass();
    }

    public static Context training(Allocator step, Kernels kernels, Rng rng) {
        return new Context(step, true, kernels, rng);
    }

    public static Context inference(Allocator step, Kernels kernels) {
        return new Context(step, false, kernels, new Rng(0));
    }
}
