package org.streamdl.dnn.losses;

import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Tensor;

/**
 * A loss averaged over the batch. {@link #forward} returns the loss and keeps what
 * {@link #gradient} needs; the gradient is with respect to the predictions and already includes
 * the 1/N of the mean.
 */
public interface Loss {

    double forward(Tensor predictions, Tensor targets, Allocator step);

    Tensor gradient(Allocator step);
}
