package org.streamdl.tensor.ops;

import java.nio.ByteBuffer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.ElementAccess;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.StridedCursor;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.reference.ReduceKernels;
import org.streamdl.tensor.reference.ReduceKernels.Op;

/**
 * Reductions along axes, accumulated in double. {@code axes} may be negative (counted from the end);
 * no axes means all of them. With {@code keepDims} reduced axes stay with extent 1.
 *
 * <p>Result dtypes: {@code sum} keeps a floating dtype and gives int32 for integers (saturating);
 * {@code mean} keeps a floating dtype and gives float32 for integers; {@code max}/{@code min} keep the
 * dtype; {@code argmax}/{@code argmin} give int32. NaN propagates through every reduction. Over an
 * empty axis, {@code sum} is 0, {@code mean} NaN, and {@code max}, {@code min}, {@code argmax},
 * {@code argmin} refuse.
 */
public final class Reduce {
    private Reduce() {}

    public static Tensor sum(Tensor x, Allocator allocator, boolean keepDims, int... axes) {
        return reduce(Op.SUM, x, allocator, keepDims, axes);
    }

    public static Tensor mean(Tensor x, Allocator allocator, boolean keepDims, int... axes) {
        return reduce(Op.MEAN, x, allocator, keepDims, axes);
    }

    public static Tensor max(Tensor x, Allocator allocator, boolean keepDims, int... axes) {
        return reduce(Op.MAX, x, allocator, keepDims, axes);
    }

    public static Tensor min(Tensor x, Allocator allocator, boolean keepDims, int... axes) {
        return reduce(Op.MIN, x, allocator, keepDims, axes);
    }

    /**
     * Sums {@code x} over {@code axes} into {@code out}, whose shape is the reduced shape with or
     * without kept axes; {@code accumulate} adds to what {@code out} holds (bias gradients: db += Σ dy).
     */
    public static void sumInto(Tensor x, Tensor out, boolean accumulate, int... axes) {
        into(Op.SUM, x, out, accumulate, axes);
    }

    public static void meanInto(Tensor x, Tensor out, int... axes) {
        into(Op.MEAN, x, out, false, axes);
    }

    public static void maxInto(Tensor x, Tensor out, int... axes) {
        into(Op.MAX, x, out, false, axes);
    }

    public static void minInto(Tensor x, Tensor out, int... axes) {
        into(Op.MIN, x, out, false, axes);
    }

    /** The sum of all elements, in double. */
    public static double sumAll(Tensor x) {
        return ReduceKernels.reduce(Op.SUM, x, reducedAxes("sumAll", x.shape(), new int[0]))[0];
    }

    /** The largest element; NaN if any is NaN. */
    public static double maxAll(Tensor x) {
        checkNotEmpty("maxAll", x.shape(), reducedAxes("maxAll", x.shape(), new int[0]));
        return ReduceKernels.reduce(Op.MAX, x, reducedAxes("maxAll", x.shape(), new int[0]))[0];
    }

    /** Index of the largest element along {@code axis} (first on ties), as int32. */
    public static Tensor argmax(Tensor x, int axis, boolean keepDims, Allocator allocator) {
        return arg("argmax", x, axis, keepDims, allocator, true);
    }

    /** Index of the smallest element along {@code axis} (first on ties), as int32. */
    public static Tensor argmin(Tensor x, int axis, boolean keepDims, Allocator allocator) {
        return arg("argmin", x, axis, keepDims, allocator, false);
    }

    private static Tensor arg(String op, Tensor x, int axis, boolean keepDims, Allocator allocator, boolean largest) {
        int a = resolve(op, x.shape(), axis);
        boolean[] reduced = new boolean[x.rank()];
        reduced[a] = true;
        checkNotEmpty(op, x.shape(), reduced);
        int[] indices = ReduceKernels.argExtreme(x, a, largest);
        return Convert.fromInts(indices, resultShape(x.shape(), reduced, keepDims), allocator);
    }

    private static Tensor reduce(Op op, Tensor x, Allocator allocator, boolean keepDims, int[] axes) {
        String name = name(op);
        boolean[] reduced = reducedAxes(name, x.shape(), axes);
        if (op == Op.MAX || op == Op.MIN) {
            checkNotEmpty(name, x.shape(), reduced);
        }
        double[] values = ReduceKernels.reduce(op, x, reduced);
        Tensor out = allocator.allocate(resultType(op, x.dtype()), resultShape(x.shape(), reduced, keepDims));
        store(values, out, false);
        return out;
    }

    private static void into(Op op, Tensor x, Tensor out, boolean accumulate, int[] axes) {
        String name = name(op);
        boolean[] reduced = reducedAxes(name, x.shape(), axes);
        if (op == Op.MAX || op == Op.MIN) {
            checkNotEmpty(name, x.shape(), reduced);
        }
        Shape kept = resultShape(x.shape(), reduced, true);
        Shape dropped = resultShape(x.shape(), reduced, false);
        Checks.argument(out.shape().equals(kept) || out.shape().equals(dropped),
                "%s over axes %s of %s: out has shape %s but the result is %s (or %s with kept axes)",
                name, axes, x.shape(), out.shape(), dropped, kept);
        DType type = resultType(op, x.dtype());
        Checks.argument(out.dtype() == type, "%s of %s: out has dtype %s but the result is %s",
                name, x.dtype(), out.dtype(), type);
        store(ReduceKernels.reduce(op, x, reduced), out, accumulate);
    }

    private static void store(double[] values, Tensor out, boolean accumulate) {
        ByteBuffer buffer = out.buffer();
        DType t = out.dtype();
        int size = t.byteSize();
        int j = 0;
        StridedCursor c = new StridedCursor(out.shape(), out);
        while (c.next()) {
            long o = c.offset(0);
            for (long n = c.rowLength(); n > 0; n--, o += c.innerStride(0)) {
                int at = (int) o * size;
                double v = values[j++];
                ElementAccess.store(buffer, t, at, accumulate ? ElementAccess.load(buffer, t, at) + v : v);
            }
        }
    }

    private static DType resultType(Op op, DType in) {
        if (in.isFloatingPoint()) {
            return in;
        }
        return switch (op) {
            case SUM -> DType.INT32;
            case MEAN -> DType.FLOAT32;
            case MAX, MIN -> in;
        };
    }

    private static boolean[] reducedAxes(String op, Shape shape, int[] axes) {
        boolean[] reduced = new boolean[shape.rank()];
        if (axes.length == 0) {
            java.util.Arrays.fill(reduced, true);
            return reduced;
        }
        for (int axis : axes) {
            int a = resolve(op, shape, axis);
            Checks.argument(!reduced[a], "%s: axis %s is given twice in %s", op, a, axes);
            reduced[a] = true;
        }
        return reduced;
    }

    private static int resolve(String op, Shape shape, int axis) {
        int a = axis < 0 ? axis + shape.rank() : axis;
        Checks.argument(a >= 0 && a < shape.rank(), "%s: axis %s is out of range for shape %s", op, axis, shape);
        return a;
    }

    private static Shape resultShape(Shape shape, boolean[] reduced, boolean keepDims) {
        int rank = 0;
        for (int axis = 0; axis < shape.rank(); axis++) {
            if (keepDims || !reduced[axis]) {
                rank++;
            }
        }
        long[] dims = new long[rank];
        for (int axis = 0, j = 0; axis < shape.rank(); axis++) {
            if (!reduced[axis]) {
                dims[j++] = shape.dim(axis);
            } else if (keepDims) {
                dims[j++] = 1;
            }
        }
        return Shape.of(dims);
    }

    private static void checkNotEmpty(String op, Shape shape, boolean[] reduced) {
        for (int axis = 0; axis < shape.rank(); axis++) {
            Checks.argument(!reduced[axis] || shape.dim(axis) > 0,
                    "%s over axis %s of %s: the axis is empty, so there is no extreme", op, axis, shape);
        }
    }

    private static String name(Op op) {
        return op.name().toLowerCase(java.util.Locale.ROOT);
    }
}
