package org.streamdl.tensor;

import java.util.Arrays;

/** The extent of each axis, outermost first. Immutable; equal shapes are interchangeable. */
public final class Shape {
    private static final Shape SCALAR = new Shape(new long[0]);

    private final long[] dims;
    private final long elementCount;

    private Shape(long[] dims) {
        long n = 1;
        for (int axis = 0; axis < dims.length; axis++) {
            Checks.argument(dims[axis] >= 0, "axis %s of %s is negative", axis, dims);
            try {
                n = Math.multiplyExact(n, dims[axis]);
            } catch (ArithmeticException overflow) {
                throw new IllegalArgumentException(
                        Checks.format("shape %s has more than %s elements", dims, Long.MAX_VALUE));
            }
        }
        this.dims = dims;
        this.elementCount = n;
    }

    public static Shape of(long... dims) {
        return dims.length == 0 ? SCALAR : new Shape(dims.clone()); // the caller keeps their array
    }

    public static Shape of(int... dims) {
        long[] d = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            d[i] = dims[i];
        }
        return dims.length == 0 ? SCALAR : new Shape(d);
    }

    public static Shape scalar() {
        return SCALAR;
    }

    public int rank() {
        return dims.length;
    }

    /** The extent of {@code axis}; negative axes count from the end ({@code -1} is the last). */
    public long dim(int axis) {
        return dims[axis(axis)];
    }

    public long[] dims() {
        return dims.clone();
    }

    public long elementCount() {
        return elementCount;
    }

    /** Resolves a possibly negative axis to {@code [0, rank)}, or throws naming the shape. */
    public int axis(int axis) {
        int resolved = axis < 0 ? axis + dims.length : axis;
        if (resolved < 0 || resolved >= dims.length) {
            throw new IllegalArgumentException(Checks.format(
                    "axis %s is out of range for shape %s of rank %s", axis, this, dims.length));
        }
        return resolved;
    }

    /** Row-major (C order) strides in elements. */
    public long[] contiguousStrides() {
        long[] strides = new long[dims.length];
        long stride = 1;
        for (int axis = dims.length - 1; axis >= 0; axis--) {
            strides[axis] = stride;
            stride *= Math.max(dims[axis], 1);
        }
        return strides;
    }

    /** A batch of {@code batchSize} samples of this shape: {@code (batchSize, ...this)}. */
    public Shape withBatch(long batchSize) {
        Checks.argument(batchSize >= 0, "a batch cannot have %s samples", batchSize);
        long[] d = new long[dims.length + 1];
        d[0] = batchSize;
        System.arraycopy(dims, 0, d, 1, dims.length);
        return new Shape(d);
    }

    /** This shape with {@code axis} replaced by {@code extent}. */
    public Shape withDim(int axis, long extent) {
        long[] d = dims.clone();
        d[axis(axis)] = extent;
        return new Shape(d);
    }

    /**
     * The shape NumPy broadcasting gives {@code a} and {@code b}: axes are aligned from the end, and
     * each pair must be equal or contain a 1.
     */
    public static Shape broadcast(Shape a, Shape b) {
        int rank = Math.max(a.rank(), b.rank());
        long[] out = new long[rank];
        for (int i = 1; i <= rank; i++) {
            long da = i <= a.rank() ? a.dims[a.rank() - i] : 1;
            long db = i <= b.rank() ? b.dims[b.rank() - i] : 1;
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(Checks.format(
                        "shapes %s and %s do not broadcast: axis %s from the end is %s in one and %s in the other",
                        a, b, i, da, db));
            }
            out[rank - i] = da == 1 ? db : da;
        }
        return new Shape(out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape other && Arrays.equals(dims, other.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** {@code (128, 1, 28, 28)}; a scalar prints as {@code ()} and a vector as {@code (3)}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(dims[i]);
        }
        return sb.append(')').toString();
    }
}
