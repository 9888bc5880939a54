package org.streamdl.dnn.layers;

import java.nio.FloatBuffer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;

/** Helpers shared by layers that fuse a ReLU into their forward pass. */
final class Activations {
    private Activations() {}

    /** dy where the ReLU's output was positive, 0 elsewhere: the gradient before a fused ReLU. */
    static Tensor reluMask(Tensor dy, Tensor y, Allocator step) {
        Tensor out = step.allocateUninitialized(DType.FLOAT32, dy.shape());
        FloatBuffer g = dy.buffer().asFloatBuffer();
        FloatBuffer v = y.buffer().asFloatBuffer();
        FloatBuffer o = out.buffer().asFloatBuffer();
        int go = (int) dy.offset();
        int vo = (int) y.offset();
        int n = (int) dy.elementCount();
        for (int i = 0; i < n; i++) {
            o.put(i, v.get(vo + i) > 0 ? g.get(go + i) : 0f);
        }
        return out;
    }
}
