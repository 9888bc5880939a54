package org.streamdl.tensor.reference;

import java.nio.ByteBuffer;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.ElementAccess;
import org.streamdl.tensor.StridedCursor;
import org.streamdl.tensor.Tensor;

/**
 * Element-wise loops. Operands arrive validated and expanded to the output's shape. Every value is
 * computed in double and stored with the output dtype's rounding, on the float32 path as on the
 * generic one, so both give the same bits.
 */
public final class ElementwiseKernels {
    private ElementwiseKernels() {}

    public enum Binary { ADD, SUB, MUL, DIV, MAX, MIN }

    public enum Unary { EXP, LOG, SQRT, TANH, SIGMOID, RELU, NEG, ABS }

    public static void binary(Binary op, Tensor a, Tensor b, Tensor out) {
        StridedCursor c = new StridedCursor(out.shape(), a, b, out);
        ByteBuffer ba = a.buffer();
        ByteBuffer bb = b.buffer();
        ByteBuffer bo = out.buffer();
        DType t = out.dtype();
        int size = t.byteSize();
        while (c.next()) {
            int ia = (int) c.offset(0) * size;
            int ib = (int) c.offset(1) * size;
            int io = (int) c.offset(2) * size;
            int sa = (int) c.innerStride(0) * size;
            int sb = (int) c.innerStride(1) * size;
            int so = (int) c.innerStride(2) * size;
            int n = (int) c.rowLength();
            if (t == DType.FLOAT32) {
                binaryFloat(op, ba, ia, sa, bb, ib, sb, bo, io, so, n);
            } else {
                for (int i = 0; i < n; i++, ia += sa, ib += sb, io += so) {
                    double x = ElementAccess.load(ba, t, ia);
                    double y = ElementAccess.load(bb, t, ib);
                    ElementAccess.store(bo, t, io, apply(op, x, y));
                }
            }
        }
    }

    private static void binaryFloat(Binary op, ByteBuffer ba, int ia, int sa, ByteBuffer bb, int ib, int sb,
                                    ByteBuffer bo, int io, int so, int n) {
        // one loop per op keeps the switch out of the element loop
        switch (op) {
            case ADD -> {
                for (int i = 0; i < n; i++, ia += sa, ib += sb, io += so) {
                    bo.putFloat(io, ba.getFloat(ia) + bb.getFloat(ib));
                }
            }
            case SUB -> {
                for (int i = 0; i < n; i++, ia += sa, ib += sb, io += so) {
                    bo.putFloat(io, ba.getFloat(ia) - bb.getFloat(ib));
                }
            }
            case MUL -> {
                for (int i = 0; i < n; i++, ia += sa, ib += sb, io += so) {
                    bo.putFloat(io, ba.getFloat(ia) * bb.getFloat(ib));
                }
            }
            default -> {
                for (int i = 0; i < n; i++, ia += sa, ib += sb, io += so) {
                    bo.putFloat(io, (float) apply(op, ba.getFloat(ia), bb.getFloat(ib)));
                }
            }
        }
    }

    /** float + float rounds the same as (float) (double + double): both are correctly rounded. */
    static double apply(Binary op, double x, double y) {
        return switch (op) {
            case ADD -> x + y;
            case SUB -> x - y;
            case MUL -> x * y;
            case DIV -> x / y;
            case MAX -> Math.max(x, y);  // NaN propagates
            case MIN -> Math.min(x, y);
        };
    }

    public static void unary(Unary op, Tensor a, Tensor out) {
        StridedCursor c = new StridedCursor(out.shape(), a, out);
        ByteBuffer ba = a.buffer();
        ByteBuffer bo = out.buffer();
        DType t = out.dtype();
        int size = t.byteSize();
        while (c.next()) {
            int ia = (int) c.offset(0) * size;
            int io = (int) c.offset(1) * size;
            int sa = (int) c.innerStride(0) * size;
            int so = (int) c.innerStride(1) * size;
            int n = (int) c.rowLength();
            if (t == DType.FLOAT32) {
                for (int i = 0; i < n; i++, ia += sa, io += so) {
                    bo.putFloat(io, (float) apply(op, ba.getFloat(ia)));
                }
            } else {
                for (int i = 0; i < n; i++, ia += sa, io += so) {
                    ElementAccess.store(bo, t, io, apply(op, ElementAccess.load(ba, t, ia)));
                }
            }
        }
    }

    static double apply(Unary op, double x) {
        return switch (op) {
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> sigmoid(x);
            case RELU -> Math.max(x, 0.0);   // keeps NaN, maps -0 to +0
            case NEG -> -x;
            case ABS -> Math.abs(x);
        };
    }

    /** Never evaluates exp of a large positive number, so it neither overflows nor loses 1 - tiny. */
    static double sigmoid(double x) {
        if (x >= 0) {
            return 1 / (1 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1 + e);
    }

    /** out = a·alpha + beta, element-wise (scalar add, scalar multiply, affine maps). */
    public static void affine(Tensor a, double alpha, double beta, Tensor out) {
        StridedCursor c = new StridedCursor(out.shape(), a, out);
        ByteBuffer ba = a.buffer();
        ByteBuffer bo = out.buffer();
        DType t = out.dtype();
        int size = t.byteSize();
        while (c.next()) {
            int ia = (int) c.offset(0) * size;
            int io = (int) c.offset(1) * size;
            int sa = (int) c.innerStride(0) * size;
            int so = (int) c.innerStride(1) * size;
            for (long i = c.rowLength(); i > 0; i--, ia += sa, io += so) {
                ElementAccess.store(bo, t, io, ElementAccess.load(ba, t, ia) * alpha + beta);
            }
        }
    }

    /** out = a + alpha·b, element-wise. */
    public static void addScaled(Tensor a, Tensor b, double alpha, Tensor out) {
        StridedCursor c = new StridedCursor(out.shape(), a, b, out);
        ByteBuffer ba = a.buffer();
        ByteBuffer bb = b.buffer();
        ByteBuffer bo = out.buffer();
        DType t = out.dtype();
        int size = t.byteSize();
        while (c.next()) {
            int ia = (int) c.offset(0) * size;
            int ib = (int) c.offset(1) * size;
            int io = (int) c.offset(2) * size;
            int sa = (int) c.innerStride(0) * size;
            int sb = (int) c.innerStride(1) * size;
            int so = (int) c.innerStride(2) * size;
            for (long i = c.rowLength(); i > 0; i--, ia += sa, ib += sb, io += so) {
                double v = ElementAccess.load(ba, t, ia) + alpha * ElementAccess.load(bb, t, ib);
                ElementAccess.store(bo, t, io, v);
            }
        }
    }

    /** out = min(max(a, low), high); NaN stays NaN. */
    public static void clamp(Tensor a, double low, double high, Tensor out) {
        StridedCursor c = new StridedCursor(out.shape(), a, out);
        ByteBuffer ba = a.buffer();
        ByteBuffer bo = out.buffer();
        DType t = out.dtype();
        int size = t.byteSize();
        while (c.next()) {
            int ia = (int) c.offset(0) * size;
            int io = (int) c.offset(1) * size;
            int sa = (int) c.innerStride(0) * size;
            int so = (int) c.innerStride(1) * size;
            for (long i = c.rowLength(); i > 0; i--, ia += sa, io += so) {
                ElementAccess.store(bo, t, io, Math.min(Math.max(ElementAccess.load(ba, t, ia), low), high));
            }
        }
    }

    public static void fill(Tensor out, double value) {
        StridedCursor c = new StridedCursor(out.shape(), out);
        ByteBuffer bo = out.buffer();
        DType t = out.dtype();
        int size = t.byteSize();
        while (c.next()) {
            int io = (int) c.offset(0) * size;
            int so = (int) c.innerStride(0) * size;
            for (long i = c.rowLength(); i > 0; i--, io += so) {
                ElementAccess.store(bo, t, io, value);
            }
        }
    }
}
