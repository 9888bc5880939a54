package org.streamdl.dnn.data;

import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * Labelled samples addressed by index. {@link #fill} copies chosen samples into a batch's
 * tensors, so datasets can keep compact storage (uint8 pixels) and convert per batch.
 */
public interface Dataset {

    int size();

    /** The shape of one sample's features, e.g. (1, 28, 28). */
    Shape sampleShape();

    /**
     * Writes samples {@code indices[from .. from + count)} into {@code features} (count, sample
     * shape…) float32 and {@code labels} (count) int32, both contiguous.
     */
    void fill(int[] indices, int from, int count, Tensor features, Tensor labels);
}
