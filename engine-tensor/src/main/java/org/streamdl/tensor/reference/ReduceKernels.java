package org.streamdl.tensor.reference;

import java.nio.ByteBuffer;
import java.util.Arrays;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.ElementAccess;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.StridedCursor;
import org.streamdl.tensor.Tensor;

/** Reductions in double precision. Axes arrive validated. */
public final class ReduceKernels {
    private ReduceKernels() {}

    public enum Op { SUM, MEAN, MAX, MIN }

    /**
     * Reduces {@code x} over the axes marked in {@code reduced}; the result is row-major over the
     * kept axes. One pass over {@code x} in its own order, accumulating into a double per output.
     */
    public static double[] reduce(Op op, Tensor x, boolean[] reduced) {
        Shape shape = x.shape();
        int rank = shape.rank();
        long[] keep = new long[rank];
        for (int axis = 0; axis < rank; axis++) {
            keep[axis] = reduced[axis] ? 1 : shape.dim(axis);
        }
        long[] accStrides = Shape.of(keep).contiguousStrides();
        long reducedCount = 1;
        for (int axis = 0; axis < rank; axis++) {
            if (reduced[axis]) {
                accStrides[axis] = 0;
                reducedCount *= shape.dim(axis);
            }
        }
        double[] acc = new double[(int) Shape.of(keep).elementCount()];
        if (op == Op.MAX) {
            Arrays.fill(acc, Double.NEGATIVE_INFINITY);
        } else if (op == Op.MIN) {
            Arrays.fill(acc, Double.POSITIVE_INFINITY);
        }
        ByteBuffer in = x.buffer();
        DType t = x.dtype();
        int size = t.byteSize();
        StridedCursor c = new StridedCursor(shape, new long[][] {x.strides(), accStrides}, new long[] {x.offset(), 0});
        while (c.next()) {
            int ix = (int) c.offset(0);
            int ia = (int) c.offset(1);
            int sx = (int) c.innerStride(0);
            int sa = (int) c.innerStride(1);
            int n = (int) c.rowLength();
            if (t == DType.FLOAT32 && op == Op.SUM || t == DType.FLOAT32 && op == Op.MEAN) {
                if (sa == 0) {      // reducing along the row: keep the running sum in a register
                    double s = 0;
                    for (int i = 0; i < n; i++, ix += sx) {
                        s += in.getFloat(ix * 4);
                    }
                    acc[ia] += s;
                } else {
                    for (int i = 0; i < n; i++, ix += sx, ia += sa) {
                        acc[ia] += in.getFloat(ix * 4);
                    }
                }
                continue;
            }
            for (int i = 0; i < n; i++, ix += sx, ia += sa) {
                double v = ElementAccess.load(in, t, ix * size);
                acc[ia] = switch (op) {
                    case SUM, MEAN -> acc[ia] + v;
                    case MAX -> Math.max(acc[ia], v);
                    case MIN -> Math.min(acc[ia], v);
                };
            }
        }
        if (op == Op.MEAN) {
            for (int i = 0; i < acc.length; i++) {
                acc[i] = reducedCount == 0 ? Double.NaN : acc[i] / reducedCount;
            }
        }
        return acc;
    }

    /**
     * Index of the largest ({@code largest}) or smallest element along {@code axis}, row-major over
     * the other axes. Ties give the first index; NaN counts as the extreme (first NaN wins).
     */
    public static int[] argExtreme(Tensor x, int axis, boolean largest) {
        int rank = x.rank();
        int[] order = new int[rank];
        for (int i = 0, j = 0; i < rank; i++) {
            if (i != axis) {
                order[j++] = i;
            }
        }
        order[rank - 1] = axis;
        Tensor moved = x.permute(order);
        Tensor outer = moved.select(-1, 0);
        long length = x.shape().dim(axis);
        int stride = (int) x.stride(axis);
        int[] out = new int[(int) outer.elementCount()];
        ByteBuffer in = x.buffer();
        DType t = x.dtype();
        int size = t.byteSize();
        StridedCursor c = new StridedCursor(outer.shape(), outer);
        int j = 0;
        while (c.next()) {
            long o = c.offset(0);
            for (long r = c.rowLength(); r > 0; r--, o += c.innerStride(0)) {
                int best = 0;
                double bestValue = ElementAccess.load(in, t, (int) o * size);
                for (int k = 1; k < length && !Double.isNaN(bestValue); k++) {
                    double v = ElementAccess.load(in, t, (int) (o + (long) k * stride) * size);
                    if (Double.isNaN(v) || (largest ? v > bestValue : v < bestValue)) {
                        best = k;
                        bestValue = v;
                    }
                }
                out[j++] = best;
            }
        }
        return out;
    }
}
