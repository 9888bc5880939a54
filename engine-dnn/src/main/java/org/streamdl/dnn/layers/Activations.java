package org.streamdl.dnn.layers;

import java.nio.FloatBuffer;
import org.streamdl.dnn.Values;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;

/** Helpers shared by layers that fuse a ReLU into their forward pass. */
final class Activations {
    private static final int CHUNK = 4096;

    private Activations() {}

    /**
     * dy where the ReLU's output was positive, 0 elsewhere: the gradient before a fused ReLU. Runs
     * over heap chunks, where HotSpot vectorizes the select (it does not through direct buffers).
     */
    static Tensor reluMask(Tensor dy, Tensor y, Allocator step) {
        if (dy.dtype() != DType.FLOAT32) { // float64 gradient checks, through the views the other layers use
            Values g = Values.of(dy.contiguous(step));
            Values v = Values.of(y.contiguous(step));
            Tensor out = step.allocateUninitialized(dy.dtype(), dy.shape());
            Values o = Values.of(out);
            for (int i = 0; i < o.size(); i++) {
                o.set(i, v.get(i) > 0 ? g.get(i) : 0);
            }
            return out;
        }
        Tensor out = step.allocateUninitialized(DType.FLOAT32, dy.shape());
        FloatBuffer g = dy.buffer().asFloatBuffer();
        FloatBuffer v = y.buffer().asFloatBuffer();
        FloatBuffer o = out.buffer().asFloatBuffer();
        int go = (int) dy.offset();
        int vo = (int) y.offset();
        int n = (int) dy.elementCount();
        float[] gc = new float[Math.min(CHUNK, n)];
        float[] vc = new float[gc.length];
        for (int from = 0; from < n; from += CHUNK) {
            int len = Math.min(CHUNK, n - from);
            g.get(go + from, gc, 0, len);
            v.get(vo + from, vc, 0, len);
            for (int i = 0; i < len; i++) {
                gc[i] = vc[i] > 0 ? gc[i] : 0f;
            }
            o.put(from, gc, 0, len);
        }
        return out;
    }
}
