package org.streamdl.tensor;

import java.nio.ByteBuffer;

/**
 * An N-dimensional array: a {@link DType}, a {@link Shape}, strides and an offset (both in
 * elements) into a {@link Storage}. Views ({@link #reshape}, {@link #narrow}, {@link #transpose},
 * {@link #expand} and the rest) share the storage of the tensor they come from; nothing is copied
 * except by {@link #contiguous(Allocator)} when a layout cannot be expressed as a view.
 *
 * <p>The tensor an {@link Allocator} returned owns the storage; closing it frees the memory early
 * (otherwise the allocator frees it when it closes). Views cannot be closed. Any access after the
 * memory is freed throws {@link IllegalStateException}.
 *
 * <p>Not thread-safe. Arithmetic lives in the {@code org.streamdl.tensor.ops} families.
 */
public final class Tensor implements AutoCloseable {
    private final Storage storage;
    private final DType dtype;
    private final Shape shape;
    private final long[] strides;
    private final long offset;
    private final boolean view;

    Tensor(Storage storage, DType dtype, Shape shape, long[] strides, long offset, boolean view) {
        this.storage = storage;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.view = view;
    }

    public DType dtype() {
        return dtype;
    }

    public Shape shape() {
        return shape;
    }

    public int rank() {
        return shape.rank();
    }

    public long elementCount() {
        return shape.elementCount();
    }

    /** Strides in elements, one per axis; 0 on broadcast axes. */
    public long[] strides() {
        return strides.clone();
    }

    public long stride(int axis) {
        return strides[shape.axis(axis)];
    }

    /** Offset of element (0, ..., 0) in the storage, in elements. */
    public long offset() {
        return offset;
    }

    public Storage storage() {
        return storage;
    }

    /** The storage's buffer; throws if it was freed. Element {@code i} is at byte {@code i * dtype.byteSize()}. */
    public ByteBuffer buffer() {
        return storage.buffer();
    }

    public boolean isView() {
        return view;
    }

    public boolean isLive() {
        return storage.isLive();
    }

    /** Row-major with no gaps, so element i of the flattened tensor is at {@code offset + i}. */
    public boolean isContiguous() {
        long expected = 1;
        for (int axis = shape.rank() - 1; axis >= 0; axis--) {
            long d = shape.dim(axis);
            if (d != 1 && strides[axis] != expected) {
                return false;
            }
            expected *= d;
        }
        return true;
    }

    // ---- single elements (tests, small code; kernels work on buffers) ----

    public double getDouble(long... index) {
        return ElementAccess.load(buffer(), dtype, byteIndex(index));
    }

    public float getFloat(long... index) {
        return (float) getDouble(index);
    }

    /** Stores {@code value} converted to this tensor's dtype (see {@link DType}). */
    public void set(double value, long... index) {
        ElementAccess.store(buffer(), dtype, byteIndex(index), value);
    }

    private int byteIndex(long[] index) {
        Checks.argument(index.length == shape.rank(),
                "index %s has %s coordinates but the tensor %s has rank %s", index, index.length, shape, shape.rank());
        long element = offset;
        for (int axis = 0; axis < index.length; axis++) {
            long i = index[axis];
            if (i < 0 || i >= shape.dim(axis)) {
                throw new IndexOutOfBoundsException(Checks.format(
                        "index %s is out of bounds for axis %s of shape %s", i, axis, shape));
            }
            element += i * strides[axis];
        }
        return (int) (element * dtype.byteSize());
    }

    // ---- views ----

    private Tensor view(Shape newShape, long[] newStrides, long newOffset) {
        return view(newShape, newStrides, newOffset, dtype);
    }

    private Tensor view(Shape newShape, long[] newStrides, long newOffset, DType newType) {
        storage.checkLive();
        return new Tensor(storage, newType, newShape, newStrides, newOffset, true);
    }

    /**
     * The same elements in a new shape; one extent may be {@code -1} and is then inferred. Needs a
     * contiguous tensor: use {@link #contiguous(Allocator)} first otherwise.
     */
    public Tensor reshape(long... dims) {
        long[] resolved = dims.clone();
        int inferred = -1;
        long known = 1;
        for (int axis = 0; axis < resolved.length; axis++) {
            if (resolved[axis] == -1) {
                Checks.argument(inferred < 0, "reshape %s to %s: only one extent may be -1", shape, dims);
                inferred = axis;
            } else {
                Checks.argument(resolved[axis] >= 0, "reshape %s to %s: axis %s is negative", shape, dims, axis);
                known = Math.multiplyExact(known, resolved[axis]);
            }
        }
        if (inferred >= 0) {
            Checks.argument(known != 0 && shape.elementCount() % known == 0,
                    "reshape %s to %s: %s elements cannot fill the -1 axis", shape, dims, shape.elementCount());
            resolved[inferred] = shape.elementCount() / known;
        }
        Shape target = Shape.of(resolved);
        Checks.argument(target.elementCount() == shape.elementCount(),
                "reshape %s to %s: element counts differ (%s vs %s)", shape, target, shape.elementCount(),
                target.elementCount());
        Checks.argument(isContiguous(),
                "reshape %s to %s: the tensor is not contiguous (strides %s); call contiguous(allocator) first",
                shape, target, strides);
        return view(target, target.contiguousStrides(), offset);
    }

    public Tensor reshape(Shape target) {
        return reshape(target.dims());
    }

    /** Elements {@code [start, start + length)} of {@code axis}. */
    public Tensor narrow(int axis, long start, long length) {
        int a = shape.axis(axis);
        Checks.argument(start >= 0 && length >= 0 && start + length <= shape.dim(a),
                "narrow axis %s of %s to [%s, %s): out of range [0, %s]", axis, shape, start, start + length, shape.dim(a));
        long[] s = strides.clone();
        return view(shape.withDim(a, length), s, offset + start * strides[a]);
    }

    /** Every {@code step}-th element of {@code axis} from {@code start} (inclusive) to {@code end} (exclusive). */
    public Tensor slice(int axis, long start, long end, long step) {
        int a = shape.axis(axis);
        Checks.argument(step > 0, "slice axis %s of %s: step must be > 0 but was %s", axis, shape, step);
        Checks.argument(start >= 0 && start <= end && end <= shape.dim(a),
                "slice axis %s of %s to [%s, %s): out of range [0, %s]", axis, shape, start, end, shape.dim(a));
        long length = (end - start + step - 1) / step;
        long[] s = strides.clone();
        s[a] = strides[a] * step;
        return view(shape.withDim(a, length), s, offset + start * strides[a]);
    }

    /** The slice at {@code index} of {@code axis}, with that axis removed. */
    public Tensor select(int axis, long index) {
        int a = shape.axis(axis);
        if (index < 0 || index >= shape.dim(a)) {
            throw new IndexOutOfBoundsException(Checks.format(
                    "select index %s of axis %s of shape %s is out of bounds", index, axis, shape));
        }
        return view(Shape.of(remove(shape.dims(), a)), remove(strides, a), offset + index * strides[a]);
    }

    public Tensor transpose(int axis0, int axis1) {
        int a = shape.axis(axis0);
        int b = shape.axis(axis1);
        int[] order = new int[shape.rank()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        order[a] = b;
        order[b] = a;
        return permute(order);
    }

    /** Axis {@code i} of the result is axis {@code order[i]} of this tensor. */
    public Tensor permute(int... order) {
        Checks.argument(order.length == shape.rank(),
                "permute %s of shape %s: needs %s axes", order, shape, shape.rank());
        boolean[] seen = new boolean[order.length];
        long[] dims = new long[order.length];
        long[] s = new long[order.length];
        for (int i = 0; i < order.length; i++) {
            int a = shape.axis(order[i]);
            Checks.argument(!seen[a], "permute %s of shape %s: axis %s appears twice", order, shape, a);
            seen[a] = true;
            dims[i] = shape.dim(a);
            s[i] = strides[a];
        }
        return view(Shape.of(dims), s, offset);
    }

    /**
     * A broadcast view with the given shape: axes of extent 1 (and new leading axes) repeat with
     * stride 0. Writing through such a view writes the shared element.
     */
    public Tensor expand(Shape target) {
        Checks.argument(target.rank() >= shape.rank(),
                "expand %s to %s: the target has fewer axes", shape, target);
        int lead = target.rank() - shape.rank();
        long[] s = new long[target.rank()];
        for (int i = 0; i < target.rank(); i++) {
            if (i < lead) {
                s[i] = 0;
                continue;
            }
            long from = shape.dim(i - lead);
            long to = target.dim(i);
            if (from == to) {
                s[i] = strides[i - lead];
            } else {
                Checks.argument(from == 1, "expand %s to %s: axis %s has extent %s, which is neither %s nor 1",
                        shape, target, i - lead, from, to);
                s[i] = 0;
            }
        }
        return view(target, s, offset);
    }

    /** Removes every axis of extent 1. */
    public Tensor squeeze() {
        int kept = 0;
        for (int axis = 0; axis < shape.rank(); axis++) {
            if (shape.dim(axis) != 1) {
                kept++;
            }
        }
        long[] dims = new long[kept];
        long[] s = new long[kept];
        int j = 0;
        for (int axis = 0; axis < shape.rank(); axis++) {
            if (shape.dim(axis) != 1) {
                dims[j] = shape.dim(axis);
                s[j++] = strides[axis];
            }
        }
        return view(Shape.of(dims), s, offset);
    }

    public Tensor squeeze(int axis) {
        int a = shape.axis(axis);
        Checks.argument(shape.dim(a) == 1, "squeeze axis %s of %s: its extent is %s, not 1", axis, shape, shape.dim(a));
        return view(Shape.of(remove(shape.dims(), a)), remove(strides, a), offset);
    }

    /** Inserts an axis of extent 1 at {@code axis} ({@code 0..rank}; negative counts from the end). */
    public Tensor unsqueeze(int axis) {
        int rank = shape.rank();
        int a = axis < 0 ? axis + rank + 1 : axis;
        Checks.argument(a >= 0 && a <= rank, "unsqueeze axis %s is out of range for shape %s", axis, shape);
        long[] dims = new long[rank + 1];
        long[] s = new long[rank + 1];
        for (int i = 0, j = 0; i <= rank; i++) {
            if (i == a) {
                dims[i] = 1;
                s[i] = i < rank ? strides[j] * shape.dim(j) : 1;
            } else {
                dims[i] = shape.dim(j);
                s[i] = strides[j++];
            }
        }
        return view(Shape.of(dims), s, offset);
    }

    /**
     * The same bytes read as another dtype and shape (a workspace carved into typed regions, say).
     * Needs a contiguous tensor whose byte offset suits the new dtype and that holds enough bytes.
     */
    public Tensor viewAs(DType newType, Shape newShape) {
        Checks.argument(isContiguous(), "viewAs %s %s: the tensor %s is not contiguous", newType, newShape, this);
        long byteOffset = offset * dtype.byteSize();
        long bytes = shape.elementCount() * dtype.byteSize();
        Checks.argument(byteOffset % newType.byteSize() == 0,
                "viewAs %s: byte offset %s is not a multiple of %s", newType, byteOffset, newType.byteSize());
        Checks.argument(newShape.elementCount() * newType.byteSize() <= bytes,
                "viewAs %s %s needs %s bytes but the tensor holds %s", newType, newShape,
                newShape.elementCount() * newType.byteSize(), bytes);
        return view(newShape, newShape.contiguousStrides(), byteOffset / newType.byteSize(), newType);
    }

    /** This tensor if it is contiguous, otherwise a contiguous copy owned by {@code allocator}. */
    public Tensor contiguous(Allocator allocator) {
        if (isContiguous()) {
            storage.checkLive();
            return this;
        }
        Tensor copy = allocator.allocate(dtype, shape);
        StridedCopy.copy(this, copy);
        return copy;
    }

    /** Frees the storage now; every view of it becomes unusable. Views themselves cannot be closed. */
    @Override
    public void close() {
        Checks.state(!view, "a view cannot be closed; close the tensor it was taken from (%s)", this);
        storage.owner().free(storage);
    }

    private static long[] remove(long[] values, int index) {
        long[] out = new long[values.length - 1];
        System.arraycopy(values, 0, out, 0, index);
        System.arraycopy(values, index + 1, out, index, values.length - index - 1);
        return out;
    }

    @Override
    public String toString() {
        return Checks.format("Tensor(%s, %s%s%s)", dtype, shape, view ? ", view" : "", storage.isLive() ? "" : ", freed");
    }
}
