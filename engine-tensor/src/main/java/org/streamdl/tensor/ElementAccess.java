package org.streamdl.tensor;

import java.nio.ByteBuffer;

/**
 * Reads and writes single elements of any {@link DType} in a little-endian buffer, by byte index.
 * The generic paths of the reference kernels go through here; hot float32 paths read the buffer
 * directly. Every dtype's value fits a {@code double} exactly.
 */
public final class ElementAccess {
    private ElementAccess() {}

    public static double load(ByteBuffer buffer, DType dtype, int byteIndex) {
        return switch (dtype) {
            case FLOAT32 -> buffer.getFloat(byteIndex);
            case BFLOAT16 -> bfloat16ToFloat(buffer.getShort(byteIndex));
            case INT8 -> buffer.get(byteIndex);
            case UINT8 -> buffer.get(byteIndex) & 0xff;
            case INT32 -> buffer.getInt(byteIndex);
            case FLOAT64 -> buffer.getDouble(byteIndex);
        };
    }

    /** Stores {@code value} converted to {@code dtype} by the rules of {@link DType}. */
    public static void store(ByteBuffer buffer, DType dtype, int byteIndex, double value) {
        switch (dtype) {
            case FLOAT32 -> buffer.putFloat(byteIndex, (float) value);
            case BFLOAT16 -> buffer.putShort(byteIndex, floatToBfloat16((float) value));
            case INT8 -> buffer.put(byteIndex, (byte) saturate(value, Byte.MIN_VALUE, Byte.MAX_VALUE));
            case UINT8 -> buffer.put(byteIndex, (byte) saturate(value, 0, 255));
            case INT32 -> buffer.putInt(byteIndex, (int) saturate(value, Integer.MIN_VALUE, Integer.MAX_VALUE));
            case FLOAT64 -> buffer.putDouble(byteIndex, value);
        }
    }

    /** Rounds half to even and clamps to {@code [min, max]}; NaN becomes 0. */
    public static long saturate(double value, long min, long max) {
        if (Double.isNaN(value)) {
            return 0;
        }
        double r = Math.rint(value);
        if (r <= min) {
            return min;
        }
        if (r >= max) {
            return max;
        }
        return (long) r;
    }

    /** bfloat16 is the upper half of a float32, so widening is exact. */
    public static float bfloat16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xffff) << 16);
    }

    /** Rounds to the nearest bfloat16, ties to even; NaN stays a (quiet) NaN, infinities stay. */
    public static short floatToBfloat16(float value) {
        int bits = Float.floatToRawIntBits(value);
        if (Float.isNaN(value)) {
            return (short) ((bits >>> 16) | 0x0040);
        }
        int lsb = (bits >>> 16) & 1;
        return (short) ((bits + 0x7fff + lsb) >>> 16);
    }
}
