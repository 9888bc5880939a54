package org.streamdl.dnn;

import org.streamdl.tensor.Tensor;

/**
 * A layer's non-trainable state saved with the model, such as batch normalization's running
 * statistics, named like parameters ({@code bn1.running_mean}).
 */
public record NamedTensor(String name, Tensor value) {}
