package org.streamdl.dnn.layers;

/**
 * A layer that can apply a following ReLU itself (a oneDNN post-op), saving a pass over memory.
 * Containers call {@link #fuseRelu()} when a {@link Relu} follows it, and then skip that ReLU.
 */
public interface FusesRelu {
    void fuseRelu();
}
