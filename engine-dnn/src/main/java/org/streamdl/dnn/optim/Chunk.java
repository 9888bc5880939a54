package org.streamdl.dnn.optim;

import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * Heap scratch arrays for element-wise updates. C2 vectorizes loops over float arrays indexed
 * alike, but not loops through direct buffers, so updates copy a chunk of each operand in (a
 * memcpy), compute, and copy the result out. 4096 floats per array stay in L1 with room to spare.
 */
final class Chunk {
    static final int SIZE = 4096;

    final float[][] arrays;

    Chunk(int count) {
        arrays = new float[count][SIZE];
    }

    static Tensor toTensor(float[] values, Allocator allocator) {
        Tensor t = allocator.allocateUninitialized(DType.FLOAT32, Shape.of(values.length));
        t.buffer().asFloatBuffer().put(0, values);
        return t;
    }
}
