package org.streamdl.tensor;

/**
 * Element types. Values are stored little-endian. Conversions into an integer type round half to
 * even and saturate at the type's range (the convention of int8 quantization); conversions into
 * bfloat16 round to nearest even; NaN stays NaN.
 */
public enum DType {
    FLOAT32("float32", 4, true, 1),
    BFLOAT16("bfloat16", 2, true, 2),
    INT8("int8", 1, false, 3),
    UINT8("uint8", 1, false, 4),
    INT32("int32", 4, false, 5),
    /** For gradient checks and other reference computations; the oneDNN backend declines it. */
    FLOAT64("float64", 8, true, 6);

    private final int code;
    private final String displayName;
    private final int byteSize;
    private final boolean floatingPoint;

    DType(String displayName, int byteSize, boolean floatingPoint, int code) {
        this.code = code;
        this.displayName = displayName;
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
    }

    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** The smallest value an integer type holds; negative infinity for floating-point types. */
    public double minValue() {
        return switch (this) {
            case INT8 -> Byte.MIN_VALUE;
            case UINT8 -> 0;
            case INT32 -> Integer.MIN_VALUE;
            default -> Double.NEGATIVE_INFINITY;
        };
    }

    /** The largest value an integer type holds; positive infinity for floating-point types. */
    public double maxValue() {
        return switch (this) {
            case INT8 -> Byte.MAX_VALUE;
            case UINT8 -> 255;
            case INT32 -> Integer.MAX_VALUE;
            default -> Double.POSITIVE_INFINITY;
        };
    }

    /** A stable one-byte code for binary formats; never reused once released. */
    public int code() {
        return code;
    }

    /** The dtype with this {@link #code()}, or an {@link IllegalArgumentException} naming the code. */
    public static DType fromCode(int code) {
        for (DType t : values()) {
            if (t.code == code) {
                return t;
            }
        }
        throw new IllegalArgumentException(Checks.format("unknown dtype code %s; expected 1 to %s", code, values().length));
    }

    /** Looks a dtype up by the name {@link #toString()} gives, for file formats and configs. */
    public static DType fromName(String name) {
        for (DType t : values()) {
            if (t.displayName.equals(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException(Checks.format(
                "unknown dtype '%s'; expected one of float32, bfloat16, int8, uint8, int32, float64", name));
    }

    @Override
    public String toString() {
        return displayName;
    }
}
