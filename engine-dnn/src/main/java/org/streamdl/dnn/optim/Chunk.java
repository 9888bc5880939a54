package org.streamdl.dnn.optim;

import java.util.Map;
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

    /**
     * Copies every state tensor named {@code <parameter>.<suffix>} into {@code into}, by parameter.
     * Unrelated names are left to other suffixes; a name matching none of {@code suffixes} is refused.
     */
    static void load(Map<String, Tensor> state, String[] suffixes, Map<String, float[]>[] into) {
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            boolean matched = false;
            for (int i = 0; i < suffixes.length && !matched; i++) {
                String suffix = "." + suffixes[i];
                if (e.getKey().endsWith(suffix)) {
                    String parameter = e.getKey().substring(0, e.getKey().length() - suffix.length());
                    into[i].put(parameter, org.streamdl.tensor.ops.Convert.toFloatArray(e.getValue()));
                    matched = true;
                }
            }
            org.streamdl.tensor.Checks.argument(matched, "optimizer state '%s' ends in none of %s", e.getKey(),
                    java.util.Arrays.toString(suffixes));
        }
    }

    static Tensor toTensor(float[] values, Allocator allocator) {
        Tensor t = allocator.allocateUninitialized(DType.FLOAT32, Shape.of(values.length));
        t.buffer().asFloatBuffer().put(0, values);
        return t;
    }
}
