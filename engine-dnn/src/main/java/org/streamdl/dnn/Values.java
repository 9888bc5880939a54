package org.streamdl.dnn;

import java.nio.DoubleBuffer;
import java.nio.FloatBuffer;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;

/**
 * The elements of a contiguous float32 or float64 tensor as doubles, by flat index: lets a layer's
 * hand-written loop run in float32 for models and in float64 for gradient checks. Two final
 * implementations only, so call sites stay cheap.
 */
public abstract sealed class Values permits Values.Float32, Values.Float64 {

    /** A view of {@code t}'s elements; {@code t} must be contiguous and float32 or float64. */
    public static Values of(Tensor t) {
        Checks.argument(t.isContiguous(), "expected a contiguous tensor but got %s", t);
        int offset = (int) t.offset();
        int size = (int) t.elementCount();
        return switch (t.dtype()) {
            case FLOAT32 -> new Float32(t.buffer().asFloatBuffer().position(offset).slice().limit(size).slice());
            case FLOAT64 -> new Float64(t.buffer().asDoubleBuffer().position(offset).slice().limit(size).slice());
            default -> throw new IllegalArgumentException(Checks.format("expected float32 or float64 but got %s", t.dtype()));
        };
    }

    /** Throws naming {@code layer} unless {@code t} is float32 or float64. */
    public static void checkFloating(Object layer, Tensor t) {
        Checks.argument(t.dtype() == DType.FLOAT32 || t.dtype() == DType.FLOAT64,
                "%s: expected float32 or float64 input but got %s", layer, t.dtype());
    }

    public abstract double get(int i);

    public abstract void set(int i, double v);

    public final void add(int i, double v) {
        set(i, get(i) + v);
    }

    public abstract int size();

    /** Copies {@code len} elements from {@code from} into {@code dst}. */
    public abstract void get(int from, double[] dst, int len);

    /** Copies {@code len} elements of {@code src} to {@code from} on. */
    public abstract void set(int from, double[] src, int len);

    static final class Float32 extends Values {
        private final FloatBuffer b;

        Float32(FloatBuffer b) {
            this.b = b;
        }

        @Override
        public double get(int i) {
            return b.get(i);
        }

        @Override
        public void set(int i, double v) {
            b.put(i, (float) v);
        }

        @Override
        public int size() {
            return b.limit();
        }

        @Override
        public void get(int from, double[] dst, int len) {
            for (int i = 0; i < len; i++) {
                dst[i] = b.get(from + i);
            }
        }

        @Override
        public void set(int from, double[] src, int len) {
            for (int i = 0; i < len; i++) {
                b.put(from + i, (float) src[i]);
            }
        }
    }

    static final class Float64 extends Values {
        private final DoubleBuffer b;

        Float64(DoubleBuffer b) {
            this.b = b;
        }

        @Override
        public double get(int i) {
            return b.get(i);
        }

        @Override
        public void set(int i, double v) {
            b.put(i, v);
        }

        @Override
        public int size() {
            return b.limit();
        }

        @Override
        public void get(int from, double[] dst, int len) {
            b.get(from, dst, 0, len);
        }

        @Override
        public void set(int from, double[] src, int len) {
            b.put(from, src, 0, len);
        }
    }
}
