package org.streamdl.tensor;

/**
 * Walks the elements of one or more same-shaped tensors row by row, where a row runs along the
 * innermost axis. Adjacent axes that every operand lays out contiguously are merged first, so
 * contiguous tensors are walked as one long row.
 *
 * <pre>{@code
 * StridedCursor c = new StridedCursor(out.shape(), a, out);
 * while (c.next()) {
 *     long ia = c.offset(0), io = c.offset(1);
 *     for (long i = 0; i < c.rowLength(); i++, ia += c.innerStride(0), io += c.innerStride(1)) { ... }
 * }
 * }</pre>
 *
 * Offsets and strides are in elements. Operands are expanded to the shape by the caller.
 */
public final class StridedCursor {
    private final long[] dims;          // merged outer dims (all but the innermost)
    private final long[][] strides;     // [operand][axis] for the outer axes
    private final long[] innerStride;
    private final long[] base;
    private final long[] current;
    private final long[] counter;
    private final long rowLength;
    private long rowsLeft;
    private boolean started;

    public StridedCursor(Shape shape, Tensor... operands) {
        this(shape, stridesOf(shape, operands), offsetsOf(operands));
        for (Tensor t : operands) {
            t.storage().checkLive();
        }
    }

    /**
     * A cursor over layouts that are not tensors (a {@code double[]} accumulator, say): operand
     * {@code k} has {@code strides[k]} and starts at {@code offsets[k]}.
     */
    public StridedCursor(Shape shape, long[][] operandStrides, long[] offsets) {
        int count = operandStrides.length;
        int rank = shape.rank();
        long[][] s = operandStrides;
        for (int k = 0; k < count; k++) {
            Checks.argument(s[k].length == rank, "operand %s has %s strides for shape %s", k, s[k].length, shape);
        }
        long[] d = shape.dims();
        // Merge axis a into a+1 when every operand steps over a as one block of a+1.
        int merged = 0;
        long[] md = new long[Math.max(rank, 1)];
        long[][] ms = new long[count][Math.max(rank, 1)];
        if (rank == 0) {
            md[0] = 1;
            merged = 1;
        } else {
            for (int axis = 0; axis < rank; axis++) {
                boolean mergeable = merged > 0;
                for (int k = 0; k < count && mergeable; k++) {
                    mergeable = ms[k][merged - 1] == s[k][axis] * d[axis];
                }
                if (mergeable) {
                    md[merged - 1] *= d[axis];
                    for (int k = 0; k < count; k++) {
                        ms[k][merged - 1] = s[k][axis];
                    }
                } else {
                    md[merged] = d[axis];
                    for (int k = 0; k < count; k++) {
                        ms[k][merged] = s[k][axis];
                    }
                    merged++;
                }
            }
        }
        this.rowLength = md[merged - 1];
        this.dims = new long[merged - 1];
        System.arraycopy(md, 0, dims, 0, merged - 1);
        this.strides = new long[count][merged - 1];
        this.innerStride = new long[count];
        this.base = offsets.clone();
        this.current = new long[count];
        for (int k = 0; k < count; k++) {
            System.arraycopy(ms[k], 0, strides[k], 0, merged - 1);
            innerStride[k] = rank == 0 ? 1 : ms[k][merged - 1];
        }
        this.counter = new long[merged - 1];
        long rows = shape.elementCount() == 0 ? 0 : 1;
        for (long dim : dims) {
            rows *= dim;
        }
        this.rowsLeft = rows;
    }

    private static long[][] stridesOf(Shape shape, Tensor[] operands) {
        long[][] s = new long[operands.length][];
        for (int k = 0; k < operands.length; k++) {
            Checks.argument(operands[k].shape().equals(shape),
                    "operand %s has shape %s but the loop runs over %s", k, operands[k].shape(), shape);
            s[k] = operands[k].strides();
        }
        return s;
    }

    private static long[] offsetsOf(Tensor[] operands) {
        long[] o = new long[operands.length];
        for (int k = 0; k < operands.length; k++) {
            o[k] = operands[k].offset();
        }
        return o;
    }

    /** Moves to the next row; false when there is none. The first call moves to the first row. */
    public boolean next() {
        if (rowsLeft == 0) {
            return false;
        }
        rowsLeft--;
        if (!started) {
            started = true;
            System.arraycopy(base, 0, current, 0, base.length);
            return true;
        }
        for (int axis = dims.length - 1; axis >= 0; axis--) {
            if (++counter[axis] < dims[axis]) {
                for (int k = 0; k < current.length; k++) {
                    current[k] += strides[k][axis];
                }
                return true;
            }
            counter[axis] = 0;
            for (int k = 0; k < current.length; k++) {
                current[k] -= strides[k][axis] * (dims[axis] - 1);
            }
        }
        throw new IllegalStateException("cursor ran past its last row");
    }

    /** Element offset of the current row's first element in operand {@code k}'s storage. */
    public long offset(int k) {
        return current[k];
    }

    public long innerStride(int k) {
        return innerStride[k];
    }

    public long rowLength() {
        return rowLength;
    }
}
