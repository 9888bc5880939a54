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

    /** The element-wise update of one chunk: w and g, and the chunk of each state array, all of length len. */
    @FunctionalInterface
    interface Update {
        void apply(float[] w, float[] g, float[][] state, int len);
    }

    private final float[] w = new float[SIZE];
    private final float[] g = new float[SIZE];
    private final float[][] state;

    /** Scratch for updates that keep {@code stateCount} arrays per parameter. */
    Chunk(int stateCount) {
        state = new float[stateCount][SIZE];
    }

    /**
     * Runs {@code update} over the parameter chunk by chunk: copies in its value, gradient and the
     * matching ranges of {@code fullState} (one array per state kind, each the parameter's length),
     * then copies the value and the state back.
     */
    void update(org.streamdl.dnn.Parameter p, float[][] fullState, Update update) {
        int n = (int) p.value().elementCount();
        java.nio.FloatBuffer wb = p.value().buffer().asFloatBuffer();
        java.nio.FloatBuffer gb = p.grad().buffer().asFloatBuffer();
        for (int from = 0; from < n; from += SIZE) {
            int len = Math.min(SIZE, n - from);
            wb.get(from, w, 0, len);
            gb.get(from, g, 0, len);
            for (int k = 0; k < fullState.length; k++) {
                System.arraycopy(fullState[k], from, state[k], 0, len);
            }
            update.apply(w, g, state, len);
            wb.put(from, w, 0, len);
            for (int k = 0; k < fullState.length; k++) {
                System.arraycopy(state[k], 0, fullState[k], from, len);
            }
        }
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
