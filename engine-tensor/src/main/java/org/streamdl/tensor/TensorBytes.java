package org.streamdl.tensor;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Tensors as little-endian bytes, in two forms.
 *
 * <p><b>Encoded</b>: a self-describing record, {@code version (1 byte) = 1, dtype code (1 byte),
 * rank (1 byte), rank × extent (int64), elements row-major}. Readers check every claim against the
 * bytes actually present before they allocate, so a corrupted or hostile record is refused with a
 * message saying what it claimed and what was there.
 *
 * <p><b>Raw</b>: just the elements, row-major, for files whose dtype and shape are known from
 * elsewhere (reference weights, a model file's tensor directory).
 */
public final class TensorBytes {
    public static final int VERSION = 1;
    public static final int MAX_RANK = 32;

    private TensorBytes() {}

    /** The size of {@link #encode}'s output for {@code t}. */
    public static long encodedSize(Tensor t) {
        return 3L + 8L * t.rank() + t.elementCount() * t.dtype().byteSize();
    }

    public static byte[] encode(Tensor t) {
        long size = encodedSize(t);
        Checks.argument(size <= Integer.MAX_VALUE - 8, "tensor %s is too large for one byte array", t.shape());
        ByteBuffer out = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        encode(t, out);
        return out.array();
    }

    /** Writes the encoded form at {@code out}'s position and advances it. */
    public static void encode(Tensor t, ByteBuffer out) {
        Checks.argument(out.remaining() >= encodedSize(t),
                "encoding %s needs %s bytes but the buffer has %s left", t, encodedSize(t), out.remaining());
        ByteBuffer le = out.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        le.put((byte) VERSION).put((byte) t.dtype().code()).put((byte) t.rank());
        for (int axis = 0; axis < t.rank(); axis++) {
            le.putLong(t.shape().dim(axis));
        }
        writeRaw(t, le);
        out.position(le.position());
    }

    public static Tensor decode(byte[] bytes, Allocator allocator) {
        return decode(ByteBuffer.wrap(bytes), allocator);
    }

    /** Reads one encoded tensor at {@code in}'s position, advancing it past the tensor. */
    public static Tensor decode(ByteBuffer in, Allocator allocator) {
        ByteBuffer le = in.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        try {
            int version = Byte.toUnsignedInt(le.get());
            Checks.argument(version == VERSION,
                    "encoded tensor has format version %s; this reader reads version %s", version, VERSION);
            DType dtype = DType.fromCode(Byte.toUnsignedInt(le.get()));
            int rank = Byte.toUnsignedInt(le.get());
            Checks.argument(rank <= MAX_RANK, "encoded tensor claims rank %s; at most %s is accepted", rank, MAX_RANK);
            Checks.argument(le.remaining() >= 8L * rank,
                    "encoded tensor of rank %s needs %s bytes of extents but %s remain", rank, 8L * rank, le.remaining());
            long[] dims = new long[rank];
            for (int axis = 0; axis < rank; axis++) {
                dims[axis] = le.getLong();
            }
            Shape shape = Shape.of(dims);   // refuses negative extents and overflow
            long dataBytes = Math.multiplyExact(shape.elementCount(), (long) dtype.byteSize());
            Checks.argument(dataBytes <= le.remaining(),
                    "encoded %s tensor %s needs %s bytes of data but only %s remain", dtype, shape, dataBytes, le.remaining());
            Tensor t = readRaw(le, dtype, shape, allocator);
            in.position(le.position());
            return t;
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("encoded tensor ends inside its header", e);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("encoded tensor claims more bytes than can exist", e);
        }
    }

    /** The elements, row-major, little-endian. */
    public static byte[] toRawBytes(Tensor t) {
        long size = t.elementCount() * t.dtype().byteSize();
        Checks.argument(size <= Integer.MAX_VALUE - 8, "tensor %s is too large for one byte array", t.shape());
        ByteBuffer out = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
        writeRaw(t, out);
        return out.array();
    }

    /** Writes the elements at {@code out}'s position (which must be little-endian) and advances it. */
    public static void writeRaw(Tensor t, ByteBuffer out) {
        int size = t.dtype().byteSize();
        ByteBuffer in = t.buffer();
        if (t.isContiguous()) {
            int bytes = (int) (t.elementCount() * size);
            out.put(out.position(), in, (int) (t.offset() * size), bytes);
            out.position(out.position() + bytes);
            return;
        }
        StridedCursor c = new StridedCursor(t.shape(), t);
        while (c.next()) {
            long o = c.offset(0);
            for (long n = c.rowLength(); n > 0; n--, o += c.innerStride(0)) {
                out.put(out.position(), in, (int) (o * size), size);
                out.position(out.position() + size);
            }
        }
    }

    /** A new tensor from {@code dtype} elements at {@code in}'s position (little-endian), advancing it. */
    public static Tensor readRaw(ByteBuffer in, DType dtype, Shape shape, Allocator allocator) {
        long bytes = shape.elementCount() * dtype.byteSize();
        Checks.argument(bytes <= in.remaining(), "%s tensor %s needs %s bytes but only %s remain",
                dtype, shape, bytes, in.remaining());
        Tensor t = allocator.allocate(dtype, shape);
        t.buffer().put(0, in, in.position(), (int) bytes);
        in.position(in.position() + (int) bytes);
        return t;
    }

    /**
     * A raw little-endian file whose length must be exactly what {@code dtype} and {@code shape}
     * need; the message names the file otherwise.
     */
    public static Tensor readRawFile(Path file, DType dtype, Shape shape, Allocator allocator) throws IOException {
        long expected = shape.elementCount() * dtype.byteSize();
        long actual = Files.size(file);
        if (actual != expected) {
            throw new IOException(Checks.format("%s: holds %s bytes but a %s tensor %s needs %s",
                    file, actual, dtype, shape, expected));
        }
        return readRaw(ByteBuffer.wrap(Files.readAllBytes(file)), dtype, shape, allocator);
    }
}
