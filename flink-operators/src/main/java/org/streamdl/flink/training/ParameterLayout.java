package org.streamdl.flink.training;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;
import org.streamdl.dnn.Parameter;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;

/**
 * The model's parameters as one flat vector (in {@link org.streamdl.dnn.model.Model#parameters()}
 * order) cut into equal slices; a slice may cover parts of several parameters. The cut depends only
 * on the parameter shapes, so every worker and shard computes the same layout independently.
 */
final class ParameterLayout {
    /** The part of one parameter that lies in one slice. */
    record Piece(String parameter, int parameterIndex, long fromInParameter, int length, int fromInSlice) {}

    private final long totalLength;
    private final long[] sliceStarts;
    private final List<List<Piece>> pieces = new ArrayList<>();

    ParameterLayout(List<Parameter> parameters, int slices) {
        if (slices < 1) {
            throw new IllegalArgumentException("the number of parameter slices must be >= 1 but was " + slices);
        }
        long total = 0;
        for (Parameter p : parameters) {
            if (p.value().dtype() != DType.FLOAT32) {
                throw new IllegalArgumentException("distributed training needs float32 parameters but '" + p.name()
                        + "' is " + p.value().dtype());
            }
            total += p.value().elementCount();
        }
        if (total == 0) {
            throw new IllegalArgumentException("the model has no trainable parameters");
        }
        if (slices > total) {
            throw new IllegalArgumentException(slices + " parameter slices for only " + total + " parameters");
        }
        if (total / slices > Integer.MAX_VALUE / Float.BYTES) {
            throw new IllegalArgumentException(total + " parameters in " + slices
                    + " slices exceed 2 GiB per slice; use more slices");
        }
        this.totalLength = total;
        this.sliceStarts = new long[slices + 1];
        for (int s = 0; s <= slices; s++) {
            sliceStarts[s] = total * s / slices;
        }
        for (int s = 0; s < slices; s++) {
            List<Piece> list = new ArrayList<>();
            long at = 0;
            for (int i = 0; i < parameters.size(); i++) {
                Parameter p = parameters.get(i);
                long from = Math.max(at, sliceStarts[s]);
                long to = Math.min(at + p.value().elementCount(), sliceStarts[s + 1]);
                if (from < to) {
                    list.add(new Piece(p.name(), i, from - at, (int) (to - from), (int) (from - sliceStarts[s])));
                }
                at += p.value().elementCount();
            }
            pieces.add(List.copyOf(list));
        }
    }

    long totalLength() {
        return totalLength;
    }

    int sliceCount() {
        return sliceStarts.length - 1;
    }

    int sliceLength(int slice) {
        return (int) (sliceStarts[slice + 1] - sliceStarts[slice]);
    }

    List<Piece> pieces(int slice) {
        return pieces.get(slice);
    }

    /** Copies slice {@code slice} of the parameters' gradients, times {@code scale}, into a new array. */
    float[] gatherGradients(List<Parameter> parameters, int slice, float scale) {
        float[] out = new float[sliceLength(slice)];
        for (Piece piece : pieces(slice)) {
            floats(parameters.get(piece.parameterIndex()).grad()).get((int) piece.fromInParameter(), out,
                    piece.fromInSlice(), piece.length());
        }
        if (scale != 1f) {
            for (int i = 0; i < out.length; i++) {
                out[i] *= scale;
            }
        }
        return out;
    }

    float[] gatherWeights(List<Parameter> parameters, int slice) {
        float[] out = new float[sliceLength(slice)];
        for (Piece piece : pieces(slice)) {
            floats(parameters.get(piece.parameterIndex()).value()).get((int) piece.fromInParameter(), out,
                    piece.fromInSlice(), piece.length());
        }
        return out;
    }

    void scatterWeights(List<Parameter> parameters, int slice, float[] weights) {
        if (weights.length != sliceLength(slice)) {
            throw new IllegalArgumentException("slice " + slice + " has " + sliceLength(slice)
                    + " parameters but the update carries " + weights.length);
        }
        for (Piece piece : pieces(slice)) {
            floats(parameters.get(piece.parameterIndex()).value()).put((int) piece.fromInParameter(), weights,
                    piece.fromInSlice(), piece.length());
        }
    }

    private static FloatBuffer floats(Tensor t) {
        return t.buffer().asFloatBuffer().position((int) t.offset()).slice();
    }

    /**
     * Keys for slices 0..S-1 that Flink's key-group hashing sends to distinct shard subtasks (slice s
     * to subtask s mod P), so shards are balanced rather than left to the hash of 0, 1, 2...
     */
    static int[] balancedKeys(int slices, int shardParallelism, int maxParallelism) {
        int[] keys = new int[slices];
        int candidate = 0;
        for (int s = 0; s < slices; s++) {
            int wanted = s % shardParallelism;
            while (KeyGroupRangeAssignment.assignKeyToParallelOperator(candidate, maxParallelism, shardParallelism)
                    != wanted) {
                candidate++;
            }
            keys[s] = candidate++;
        }
        return keys;
    }
}
