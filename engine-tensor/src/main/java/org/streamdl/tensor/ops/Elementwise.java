package org.streamdl.tensor.ops;

import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.reference.ElementwiseKernels;
import org.streamdl.tensor.reference.ElementwiseKernels.Binary;
import org.streamdl.tensor.reference.ElementwiseKernels.Unary;

/**
 * Element-wise operations. Binary operations broadcast by NumPy's rules. Each comes in two forms:
 * one that allocates the result from an {@link Allocator}, and one that writes into {@code out},
 * which must have the operands' dtype and exactly the broadcast shape. {@code out} may be one of
 * the inputs (in place) when it has the same layout as that input.
 *
 * <p>Inputs share one dtype. Integer results round half to even and saturate (see {@link DType}).
 * {@code exp, log, sqrt, tanh, sigmoid} and {@code div} need a floating-point dtype.
 */
public final class Elementwise {
    private Elementwise() {}

    // ---- binary, broadcasting ----

    public static Tensor add(Tensor a, Tensor b, Allocator allocator) {
        return binary(Binary.ADD, a, b, allocator);
    }

    public static void add(Tensor a, Tensor b, Tensor out) {
        binary(Binary.ADD, a, b, out);
    }

    public static Tensor sub(Tensor a, Tensor b, Allocator allocator) {
        return binary(Binary.SUB, a, b, allocator);
    }

    public static void sub(Tensor a, Tensor b, Tensor out) {
        binary(Binary.SUB, a, b, out);
    }

    public static Tensor mul(Tensor a, Tensor b, Allocator allocator) {
        return binary(Binary.MUL, a, b, allocator);
    }

    public static void mul(Tensor a, Tensor b, Tensor out) {
        binary(Binary.MUL, a, b, out);
    }

    public static Tensor div(Tensor a, Tensor b, Allocator allocator) {
        return binary(Binary.DIV, a, b, allocator);
    }

    public static void div(Tensor a, Tensor b, Tensor out) {
        binary(Binary.DIV, a, b, out);
    }

    /** Element-wise maximum; NaN in either input gives NaN. */
    public static Tensor max(Tensor a, Tensor b, Allocator allocator) {
        return binary(Binary.MAX, a, b, allocator);
    }

    public static void max(Tensor a, Tensor b, Tensor out) {
        binary(Binary.MAX, a, b, out);
    }

    /** Element-wise minimum; NaN in either input gives NaN. */
    public static Tensor min(Tensor a, Tensor b, Allocator allocator) {
        return binary(Binary.MIN, a, b, allocator);
    }

    public static void min(Tensor a, Tensor b, Tensor out) {
        binary(Binary.MIN, a, b, out);
    }

    /** {@code out = a + alpha * b} with {@code b} broadcast: the update step of optimizers. */
    public static void addScaled(Tensor a, Tensor b, double alpha, Tensor out) {
        Shape shape = checkBinary("addScaled", a, b);
        checkOut("addScaled", out, a.dtype(), shape, a, b);
        ElementwiseKernels.addScaled(a.expand(shape), b.expand(shape), alpha, out);
    }

    private static Tensor binary(Binary op, Tensor a, Tensor b, Allocator allocator) {
        Shape shape = checkBinary(name(op), a, b);
        if (op == Binary.DIV) {
            checkFloating("div", a);
        }
        Tensor out = allocator.allocate(a.dtype(), shape);
        ElementwiseKernels.binary(op, a.expand(shape), b.expand(shape), out);
        return out;
    }

    private static void binary(Binary op, Tensor a, Tensor b, Tensor out) {
        Shape shape = checkBinary(name(op), a, b);
        if (op == Binary.DIV) {
            checkFloating("div", a);
        }
        checkOut(name(op), out, a.dtype(), shape, a, b);
        ElementwiseKernels.binary(op, a.expand(shape), b.expand(shape), out);
    }

    // ---- scalar ----

    /** {@code a + value}. */
    public static Tensor addScalar(Tensor a, double value, Allocator allocator) {
        Tensor out = allocator.allocate(a.dtype(), a.shape());
        ElementwiseKernels.affine(a, 1, value, out);
        return out;
    }

    public static void addScalar(Tensor a, double value, Tensor out) {
        checkOut("addScalar", out, a.dtype(), a.shape(), a);
        ElementwiseKernels.affine(a, 1, value, out);
    }

    /** {@code a * value}. */
    public static Tensor mulScalar(Tensor a, double value, Allocator allocator) {
        Tensor out = allocator.allocate(a.dtype(), a.shape());
        ElementwiseKernels.affine(a, value, 0, out);
        return out;
    }

    public static void mulScalar(Tensor a, double value, Tensor out) {
        checkOut("mulScalar", out, a.dtype(), a.shape(), a);
        ElementwiseKernels.affine(a, value, 0, out);
    }

    /** Sets every element (through any view) to {@code value}, converted to the tensor's dtype. */
    public static void fill(Tensor out, double value) {
        ElementwiseKernels.fill(out, value);
    }

    /** {@code min(max(a, low), high)}; NaN stays NaN. */
    public static Tensor clamp(Tensor a, double low, double high, Allocator allocator) {
        checkRange(low, high);
        Tensor out = allocator.allocate(a.dtype(), a.shape());
        ElementwiseKernels.clamp(a, low, high, out);
        return out;
    }

    public static void clamp(Tensor a, double low, double high, Tensor out) {
        checkRange(low, high);
        checkOut("clamp", out, a.dtype(), a.shape(), a);
        ElementwiseKernels.clamp(a, low, high, out);
    }

    // ---- unary ----

    public static Tensor exp(Tensor a, Allocator allocator) {
        return unary(Unary.EXP, a, allocator);
    }

    public static void exp(Tensor a, Tensor out) {
        unary(Unary.EXP, a, out);
    }

    public static Tensor log(Tensor a, Allocator allocator) {
        return unary(Unary.LOG, a, allocator);
    }

    public static void log(Tensor a, Tensor out) {
        unary(Unary.LOG, a, out);
    }

    public static Tensor sqrt(Tensor a, Allocator allocator) {
        return unary(Unary.SQRT, a, allocator);
    }

    public static void sqrt(Tensor a, Tensor out) {
        unary(Unary.SQRT, a, out);
    }

    public static Tensor tanh(Tensor a, Allocator allocator) {
        return unary(Unary.TANH, a, allocator);
    }

    public static void tanh(Tensor a, Tensor out) {
        unary(Unary.TANH, a, out);
    }

    /** {@code 1 / (1 + exp(-a))}, computed without overflow for large {@code |a|}. */
    public static Tensor sigmoid(Tensor a, Allocator allocator) {
        return unary(Unary.SIGMOID, a, allocator);
    }

    public static void sigmoid(Tensor a, Tensor out) {
        unary(Unary.SIGMOID, a, out);
    }

    /** {@code max(a, 0)}; NaN stays NaN. */
    public static Tensor relu(Tensor a, Allocator allocator) {
        return unary(Unary.RELU, a, allocator);
    }

    public static void relu(Tensor a, Tensor out) {
        unary(Unary.RELU, a, out);
    }

    public static Tensor neg(Tensor a, Allocator allocator) {
        return unary(Unary.NEG, a, allocator);
    }

    public static void neg(Tensor a, Tensor out) {
        unary(Unary.NEG, a, out);
    }

    public static Tensor abs(Tensor a, Allocator allocator) {
        return unary(Unary.ABS, a, allocator);
    }

    public static void abs(Tensor a, Tensor out) {
        unary(Unary.ABS, a, out);
    }

    private static Tensor unary(Unary op, Tensor a, Allocator allocator) {
        checkUnary(op, a);
        Tensor out = allocator.allocate(a.dtype(), a.shape());
        ElementwiseKernels.unary(op, a, out);
        return out;
    }

    private static void unary(Unary op, Tensor a, Tensor out) {
        checkUnary(op, a);
        checkOut(name(op), out, a.dtype(), a.shape(), a);
        ElementwiseKernels.unary(op, a, out);
    }

    // ---- checks ----

    private static void checkUnary(Unary op, Tensor a) {
        switch (op) {
            case EXP, LOG, SQRT, TANH, SIGMOID -> checkFloating(name(op), a);
            default -> { }
        }
    }

    private static Shape checkBinary(String op, Tensor a, Tensor b) {
        Checks.argument(a.dtype() == b.dtype(),
                "%s: dtype mismatch: %s and %s; convert one with Convert.to first", op, a.dtype(), b.dtype());
        try {
            return Shape.broadcast(a.shape(), b.shape());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(op + ": " + e.getMessage(), e);
        }
    }

    private static void checkFloating(String op, Tensor a) {
        Checks.argument(a.dtype().isFloatingPoint(),
                "%s needs a floating-point dtype (float32 or bfloat16) but got %s; convert with Convert.to first",
                op, a.dtype());
    }

    private static void checkOut(String op, Tensor out, DType dtype, Shape shape, Tensor... inputs) {
        Checks.argument(out.dtype() == dtype, "%s: out has dtype %s but the result is %s", op, out.dtype(), dtype);
        Checks.argument(out.shape().equals(shape), "%s: out has shape %s but the result has shape %s",
                op, out.shape(), shape);
        for (Tensor in : inputs) {
            // in place is fine only element for element; any other overlap would read overwritten values
            boolean aliased = in.storage() == out.storage();
            Checks.argument(!aliased || (in.shape().equals(out.shape()) && in.offset() == out.offset()
                            && java.util.Arrays.equals(in.strides(), out.strides())),
                    "%s: out shares memory with an input but not its layout; write into a separate tensor", op);
        }
    }

    private static void checkRange(double low, double high) {
        Checks.argument(!(low > high), "clamp: low %s is greater than high %s", low, high);
    }

    private static String name(Enum<?> op) {
        return op.name().toLowerCase(java.util.Locale.ROOT);
    }
}
