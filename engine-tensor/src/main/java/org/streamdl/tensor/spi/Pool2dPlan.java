package org.streamdl.tensor.spi;

import org.streamdl.tensor.Tensor;

/**
 * Pooling prepared for one {@link Pool2dSpec}. Training forward passes record what backward needs
 * (max positions) in a workspace of {@link #workspaceBytes()} bytes that the caller allocates as a
 * uint8 tensor and hands to both calls. Float32, contiguous NCHW tensors. Not thread-safe.
 */
public interface Pool2dPlan extends AutoCloseable {

    Pool2dSpec spec();

    /** Bytes the workspace needs; 0 when backward needs none. */
    long workspaceBytes();

    /** y = pool(x); {@code workspace} may be null for inference. */
    void forward(Tensor x, Tensor y, Tensor workspace);

    /** dx from dy and the workspace of the matching forward pass; dx is overwritten. */
    void backward(Tensor dy, Tensor workspace, Tensor dx);

    @Override
    void close();
}
