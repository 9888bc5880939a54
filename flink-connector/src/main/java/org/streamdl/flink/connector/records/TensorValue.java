package org.streamdl.flink.connector.records;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.apache.flink.api.common.typeinfo.TypeInfo;
import org.streamdl.flink.connector.serialization.StreamDLTypes;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.TensorBytes;

/**
 * A tensor as an immutable heap value: dtype, shape and its elements as little-endian bytes.
 *
 * <p>Records in a Flink job are ordinary garbage-collected objects that Flink copies, buffers and
 * checkpoints, while engine {@link Tensor}s are off-heap memory with an owner who frees it. So
 * records carry {@code TensorValue}s, and an operator copies them into its step allocator with
 * {@link #toTensor} (one memory copy) and back with {@link #of(Tensor)}.
 *
 * <p>Never change the arrays handed in or out: the value is shared, not copied, between records.
 */
@TypeInfo(StreamDLTypes.TensorTypeInfoFactory.class)
public final class TensorValue {
    private final DType dtype;
    private final long[] shape;
    private final byte[] data;

    private TensorValue(DType dtype, long[] shape, byte[] data) {
        this.dtype = dtype;
        this.shape = shape;
        this.data = data;
    }

    /**
     * A tensor value over {@code data} (little-endian elements, row-major). Throws an
     * {@link IllegalArgumentException} naming the shape when the byte count does not match.
     */
    public static TensorValue of(DType dtype, long[] shape, byte[] data) {
        long elements = elementCount(shape);
        long expected = elements * dtype.byteSize();
        if (expected != data.length) {
            throw new IllegalArgumentException("a " + dtype + " tensor of shape " + Arrays.toString(shape) + " needs "
                    + expected + " bytes but got " + data.length);
        }
        return new TensorValue(dtype, shape.clone(), data);
    }

    /** A float32 value with these elements (copied) and shape. */
    public static TensorValue ofFloats(float[] values, long... shape) {
        if (elementCount(shape) != values.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + elementCount(shape)
                    + " elements but got " + values.length + " values");
        }
        byte[] bytes = new byte[values.length * 4];
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(values);
        return new TensorValue(DType.FLOAT32, shape.clone(), bytes);
    }

    /** A copy of an engine tensor (any strides) as a heap value. */
    public static TensorValue of(Tensor t) {
        return new TensorValue(t.dtype(), t.shape().dims(), TensorBytes.toRawBytes(t));
    }

    /** A new engine tensor, owned by {@code allocator}, with this value's elements. */
    public Tensor toTensor(Allocator allocator) {
        return TensorBytes.readRaw(ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN), dtype, Shape.of(shape), allocator);
    }

    public DType dtype() {
        return dtype;
    }

    /** The extents; a copy. */
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long dim(int axis) {
        return shape[axis];
    }

    public long elementCount() {
        return elementCount(shape);
    }

    /** The elements as little-endian bytes; shared, do not modify. */
    public byte[] bytes() {
        return data;
    }

    /** The elements of a float32 value, row-major. */
    public float[] toFloats() {
        if (dtype != DType.FLOAT32) {
            throw new IllegalStateException("toFloats needs a float32 tensor but this one is " + dtype);
        }
        float[] out = new float[data.length / 4];
        ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out);
        return out;
    }

    /** The same elements seen with another shape of equal element count (no copy). */
    public TensorValue reshape(long... newShape) {
        if (elementCount(newShape) != elementCount()) {
            throw new IllegalArgumentException("cannot reshape " + Arrays.toString(shape) + " to "
                    + Arrays.toString(newShape) + ": element counts differ");
        }
        return new TensorValue(dtype, newShape.clone(), data);
    }

    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative extent in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorValue other && dtype == other.dtype && Arrays.equals(shape, other.shape)
                && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * dtype.hashCode() + Arrays.hashCode(shape)) + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return dtype + Arrays.toString(shape);
    }
}
