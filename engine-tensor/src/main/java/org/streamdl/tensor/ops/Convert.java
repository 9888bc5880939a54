package org.streamdl.tensor.ops;

import java.nio.ByteBuffer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.ElementAccess;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.StridedCopy;
import org.streamdl.tensor.StridedCursor;
import org.streamdl.tensor.Tensor;

/**
 * Conversions between tensors and Java arrays, and between dtypes. Integer targets round half to
 * even and saturate; bfloat16 targets round to nearest even (see {@link DType}).
 */
public final class Convert {
    private Convert() {}

    /** A new contiguous float32 tensor holding {@code values} in row-major order. */
    public static Tensor fromFloats(float[] values, Shape shape, Allocator allocator) {
        checkCount(values.length, shape);
        Tensor t = allocator.allocate(DType.FLOAT32, shape);
        t.buffer().asFloatBuffer().put(values);
        return t;
    }

    /** A new contiguous tensor of {@code dtype} holding {@code values} converted to it. */
    public static Tensor fromDoubles(double[] values, DType dtype, Shape shape, Allocator allocator) {
        checkCount(values.length, shape);
        Tensor t = allocator.allocate(dtype, shape);
        ByteBuffer out = t.buffer();
        int size = dtype.byteSize();
        for (int i = 0; i < values.length; i++) {
            ElementAccess.store(out, dtype, i * size, values[i]);
        }
        return t;
    }

    public static Tensor fromInts(int[] values, Shape shape, Allocator allocator) {
        checkCount(values.length, shape);
        Tensor t = allocator.allocate(DType.INT32, shape);
        t.buffer().asIntBuffer().put(values);
        return t;
    }

    /** Raw int8 ({@code unsigned == false}) or uint8 values. */
    public static Tensor fromBytes(byte[] values, boolean unsigned, Shape shape, Allocator allocator) {
        checkCount(values.length, shape);
        Tensor t = allocator.allocate(unsigned ? DType.UINT8 : DType.INT8, shape);
        t.buffer().put(0, values);
        return t;
    }

    /** The elements in row-major order, converted to float. */
    public static float[] toFloatArray(Tensor t) {
        float[] out = new float[checkedLength(t)];
        if (t.dtype() == DType.FLOAT32 && t.isContiguous()) {
            t.buffer().asFloatBuffer().get((int) t.offset(), out);
            return out;
        }
        ByteBuffer in = t.buffer();
        int size = t.dtype().byteSize();
        int j = 0;
        StridedCursor c = new StridedCursor(t.shape(), t);
        while (c.next()) {
            long i = c.offset(0);
            for (long n = c.rowLength(); n > 0; n--, i += c.innerStride(0)) {
                out[j++] = (float) ElementAccess.load(in, t.dtype(), (int) (i * size));
            }
        }
        return out;
    }

    /** The elements in row-major order as doubles (exact for every dtype). */
    public static double[] toDoubleArray(Tensor t) {
        double[] out = new double[checkedLength(t)];
        ByteBuffer in = t.buffer();
        int size = t.dtype().byteSize();
        int j = 0;
        StridedCursor c = new StridedCursor(t.shape(), t);
        while (c.next()) {
            long i = c.offset(0);
            for (long n = c.rowLength(); n > 0; n--, i += c.innerStride(0)) {
                out[j++] = ElementAccess.load(in, t.dtype(), (int) (i * size));
            }
        }
        return out;
    }

    /** The elements in row-major order, converted to int by the integer rules of {@link DType}. */
    public static int[] toIntArray(Tensor t) {
        double[] values = toDoubleArray(t);
        int[] out = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (int) ElementAccess.saturate(values[i], Integer.MIN_VALUE, Integer.MAX_VALUE);
        }
        return out;
    }

    /** Copies {@code source} into the same-shaped {@code destination}, converting the dtype. */
    public static void copy(Tensor source, Tensor destination) {
        StridedCopy.copy(source, destination);
    }

    /** A contiguous copy of {@code source} in {@code dtype}, owned by {@code allocator}. */
    public static Tensor to(Tensor source, DType dtype, Allocator allocator) {
        if (source.dtype() == DType.FLOAT32 && dtype == DType.BFLOAT16 && source.isContiguous()) {
            return toBfloat16(source, allocator);
        }
        Tensor out = allocator.allocate(dtype, source.shape());
        StridedCopy.copy(source, out);
        return out;
    }

    /** float32 → bfloat16 in one tight loop (the input side of every bfloat16 layer runs it per batch). */
    private static Tensor toBfloat16(Tensor source, Allocator allocator) {
        int n = checkedLength(source);
        Tensor out = allocator.allocateUninitialized(DType.BFLOAT16, source.shape());
        java.nio.IntBuffer in = source.buffer().asIntBuffer();
        java.nio.ShortBuffer dst = out.buffer().asShortBuffer();
        int base = (int) source.offset();
        int[] chunk = new int[Math.min(Math.max(n, 1), 4096)];
        short[] halves = new short[chunk.length];
        for (int from = 0; from < n; from += chunk.length) {
            int len = Math.min(chunk.length, n - from);
            in.get(base + from, chunk, 0, len);
            for (int i = 0; i < len; i++) {
                int bits = chunk[i];
                boolean nan = (bits & 0x7fffffff) > 0x7f800000;
                // round to nearest even on the 16 bits dropped; NaN stays a quiet NaN (as ElementAccess does)
                halves[i] = (short) (nan ? (bits >>> 16) | 0x0040 : (bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
            }
            dst.put(from, halves, 0, len);
        }
        return out;
    }

    /**
     * Symmetric quantization: round(x / scale) to the nearest code, ties to even, saturated to
     * uint8 [0, 255] or int8 [-128, 127]; a contiguous result owned by {@code allocator}. The
     * float32 path is one tight loop (the input side of every int8 layer runs it per batch).
     */
    public static Tensor quantize(Tensor source, double scale, DType codes, Allocator allocator) {
        Checks.argument(codes == DType.UINT8 || codes == DType.INT8, "quantize: codes are uint8 or int8, not %s", codes);
        Checks.argument(scale > 0 && Double.isFinite(scale), "quantize: scale must be finite and > 0 but is %s", scale);
        if (source.dtype() != DType.FLOAT32 || !source.isContiguous()) {
            return to(Elementwise.mulScalar(source, 1 / scale, allocator), codes, allocator);
        }
        int n = checkedLength(source);
        Tensor out = allocator.allocateUninitialized(codes, source.shape());
        java.nio.FloatBuffer in = source.buffer().asFloatBuffer();
        java.nio.ByteBuffer dst = out.buffer();
        int base = (int) source.offset();
        float inverse = (float) (1 / scale);
        float low = codes == DType.UINT8 ? 0 : -128;
        float high = codes == DType.UINT8 ? 255 : 127;
        float[] chunk = new float[Math.min(n, 4096)];
        byte[] bytes = new byte[chunk.length];
        for (int from = 0; from < n; from += chunk.length) {
            int len = Math.min(chunk.length, n - from);
            in.get(base + from, chunk, 0, len);
            for (int i = 0; i < len; i++) {
                bytes[i] = (byte) (int) Math.min(high, Math.max(low, Math.rint(chunk[i] * inverse)));
            }
            dst.put(from, bytes, 0, len);
        }
        return out;
    }

    private static void checkCount(int length, Shape shape) {
        Checks.argument(length == shape.elementCount(),
                "%s values cannot fill shape %s, which has %s elements", length, shape, shape.elementCount());
    }

    private static int checkedLength(Tensor t) {
        Checks.argument(t.elementCount() <= Integer.MAX_VALUE - 8,
                "tensor %s has too many elements for a Java array", t.shape());
        return (int) t.elementCount();
    }
}
