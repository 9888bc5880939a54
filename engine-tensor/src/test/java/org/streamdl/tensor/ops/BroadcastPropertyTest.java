package org.streamdl.tensor.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * Seeded random cases (a property test without a framework): random shapes, broadcast partners,
 * permuted and sliced views; every element of a result is checked against index arithmetic done
 * by hand. A failure names the case's seed, so it can be replayed.
 */
class BroadcastPropertyTest {
    private static final int CASES = 300;

    private static long[] randomDims(Rng rng, int rank) {
        long[] dims = new long[rank];
        for (int i = 0; i < rank; i++) {
            dims[i] = 1 + rng.nextInt(4);
        }
        return dims;
    }

    /** Row-major coordinates of flat index {@code flat} in {@code shape}. */
    private static long[] coordinates(long flat, Shape shape) {
        long[] c = new long[shape.rank()];
        for (int axis = shape.rank() - 1; axis >= 0; axis--) {
            c[axis] = flat % shape.dim(axis);
            flat /= shape.dim(axis);
        }
        return c;
    }

    /** The coordinates of a broadcast operand of {@code shape} for output coordinates {@code out}. */
    private static long[] broadcastCoordinates(long[] out, Shape shape) {
        long[] c = new long[shape.rank()];
        int lead = out.length - shape.rank();
        for (int axis = 0; axis < shape.rank(); axis++) {
            c[axis] = shape.dim(axis) == 1 ? 0 : out[axis + lead];
        }
        return c;
    }

    @Test
    void broadcastBinaryOpsAgreeWithIndexArithmetic() {
        for (int seed = 0; seed < CASES; seed++) {
            Rng rng = new Rng(seed);
            try (Allocator a = Allocator.root("case-" + seed, 1 << 20)) {
                long[] outDims = randomDims(rng, 1 + rng.nextInt(4));
                // the partner drops some leading axes and sets some others to 1
                int partnerRank = 1 + rng.nextInt(outDims.length);
                long[] partnerDims = new long[partnerRank];
                for (int i = 0; i < partnerRank; i++) {
                    long d = outDims[outDims.length - partnerRank + i];
                    partnerDims[i] = rng.nextInt(3) == 0 ? 1 : d;
                }
                Tensor x = permutedRandom(a, rng, outDims);
                Tensor y = permutedRandom(a, rng, partnerDims);
                boolean swap = rng.nextInt(2) == 0;
                Tensor result = swap ? Elementwise.sub(y, x, a) : Elementwise.sub(x, y, a);
                Shape shape = Shape.of(outDims);
                assertEquals(shape, result.shape(), "seed " + seed);
                for (long i = 0; i < shape.elementCount(); i++) {
                    long[] c = coordinates(i, shape);
                    float xv = x.getFloat(c);
                    float yv = y.getFloat(broadcastCoordinates(c, y.shape()));
                    assertEquals(swap ? yv - xv : xv - yv, result.getFloat(c), "seed " + seed + " element " + i);
                }
            }
        }
    }

    @Test
    void viewsReadTheElementsTheirIndexArithmeticNames() {
        for (int seed = 0; seed < CASES; seed++) {
            Rng rng = new Rng(1000 + seed);
            try (Allocator a = Allocator.root("case-" + seed, 1 << 20)) {
                long[] dims = randomDims(rng, 2 + rng.nextInt(3));
                Tensor base = a.allocate(DType.FLOAT32, dims);
                RandomFill.uniform(base, -1, 1, rng);
                int axis = rng.nextInt(dims.length);
                long start = rng.nextInt((int) dims[axis]);
                long length = 1 + rng.nextInt((int) (dims[axis] - start));
                Tensor narrowed = base.narrow(axis, start, length);
                int[] order = permutation(rng, dims.length);
                Tensor view = narrowed.permute(order);
                Tensor copy = view.contiguous(a);
                float[] flat = Convert.toFloatArray(copy);
                for (int i = 0; i < flat.length; i++) {
                    long[] c = coordinates(i, view.shape());
                    long[] inBase = new long[dims.length];
                    for (int k = 0; k < order.length; k++) {
                        inBase[order[k]] = c[k];
                    }
                    inBase[axis] += start;
                    assertEquals(base.getFloat(inBase), flat[i], "seed " + seed + " element " + i);
                }
            }
        }
    }

    private static Tensor permutedRandom(Allocator a, Rng rng, long[] dims) {
        // stored in a shuffled axis order, then viewed back: same logical shape, scrambled strides
        int[] order = permutation(rng, dims.length);
        long[] stored = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            stored[i] = dims[order[i]];
        }
        Tensor t = a.allocate(DType.FLOAT32, stored);
        RandomFill.uniform(t, -10, 10, rng);
        int[] inverse = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            inverse[order[i]] = i;
        }
        return t.permute(inverse);
    }

    private static int[] permutation(Rng rng, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        rng.shuffle(p);
        return p;
    }
}
