package org.streamdl.tensor.spi;

import org.streamdl.tensor.Tensor;

/**
 * A conv(-ReLU)-pool block prepared for one {@link ConvPoolSpec}. A training forward pass leaves in a
 * caller-owned uint8 workspace of {@link #workspaceBytes()} bytes what backward needs (the
 * convolution's output in the backend's layout, the pooling's positions); the caller hands the same
 * workspace to backward. Plain NCHW/OIHW float32 tensors at the boundary. Not thread-safe.
 */
public interface ConvPoolPlan extends AutoCloseable {

    ConvPoolSpec spec();

    long workspaceBytes();

    /** y = pool(relu?(conv(x, w) + b)); {@code workspace} null for inference. */
    void forward(Tensor x, Tensor w, Tensor b, Tensor y, Tensor workspace);

    /**
     * From dy (the gradient of the block's output y, which the forward pass returned): writes dw and db
     * (db may be null without bias) and, unless {@code dx} is null, the input gradient.
     */
    void backward(Tensor x, Tensor w, Tensor y, Tensor dy, Tensor workspace, Tensor dx, Tensor dw, Tensor db);

    @Override
    void close();
}
