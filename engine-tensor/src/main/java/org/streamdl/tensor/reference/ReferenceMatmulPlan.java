package org.streamdl.tensor.reference;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.StridedCursor;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.MatmulPlan;
import org.streamdl.tensor.spi.MatmulSpec;

/**
 * Batched GEMM on {@link GemmKernel}s: each matrix of the batch is split into one tile of rows or
 * columns per thread (small products are not split). Not thread-safe: one execute at a time.
 */
final class ReferenceMatmulPlan implements MatmulPlan {
    /** Below this many multiply-adds a product runs on one thread: splitting would cost more. */
    private static final long SPLIT_THRESHOLD = 64L * 64 * 64;

    private final MatmulSpec spec;
    private final ReferenceBackend backend;
    private final GemmKernel[] kernels;

    ReferenceMatmulPlan(MatmulSpec spec, ReferenceBackend backend) {
        this.spec = spec;
        this.backend = backend;
        this.kernels = new GemmKernel[backend.threads()];
        for (int i = 0; i < kernels.length; i++) {
            kernels[i] = new GemmKernel();
        }
    }

    @Override
    public MatmulSpec spec() {
        return spec;
    }

    @Override
    public void execute(Tensor a, Tensor b, Tensor c) {
        execute(a, b, null, c);
    }

    @Override
    public void execute(Tensor a, Tensor b, Tensor bias, Tensor c) {
        MatmulPlan.checkOperands(spec, a, b, bias, c);
        multiply(a, b, c);
        if (bias != null || spec.relu()) {
            addBiasAndRelu(bias, c);
        }
    }

    private void addBiasAndRelu(Tensor bias, Tensor c) {
        Tensor rowBias = bias == null ? null : bias.expand(c.shape());
        java.nio.ByteBuffer out = c.buffer();
        java.nio.ByteBuffer in = bias == null ? null : bias.buffer();
        StridedCursor cursor = bias == null ? new StridedCursor(c.shape(), c) : new StridedCursor(c.shape(), c, rowBias);
        while (cursor.next()) {
            long o = cursor.offset(0);
            long bo = bias == null ? 0 : cursor.offset(1);
            long bs = bias == null ? 0 : cursor.innerStride(1);
            for (long i = cursor.rowLength(); i > 0; i--, o += cursor.innerStride(0), bo += bs) {
                float v = out.getFloat((int) o * 4) + (in == null ? 0f : in.getFloat((int) bo * 4));
                out.putFloat((int) o * 4, spec.relu() && v < 0 ? 0f : v);
            }
        }
    }

    private void multiply(Tensor a, Tensor b, Tensor c) {
        Shape cShape = spec.cShape();
        int batchRank = cShape.rank() - 2;
        long[] batchDims = Arrays.copyOf(cShape.dims(), batchRank);
        Tensor ea = a.expand(withBatch(batchDims, a.shape()));
        Tensor eb = b.expand(withBatch(batchDims, b.shape()));
        FloatBuffer fa = a.buffer().asFloatBuffer();
        FloatBuffer fb = b.buffer().asFloatBuffer();
        FloatBuffer fc = c.buffer().asFloatBuffer();
        int m = (int) spec.m();
        int n = (int) spec.n();
        int k = (int) spec.k();
        long[] sa = ea.strides();
        long[] sb = eb.strides();
        long[] sc = c.strides();
        long aRow = spec.transposeA() ? sa[batchRank + 1] : sa[batchRank];
        long aCol = spec.transposeA() ? sa[batchRank] : sa[batchRank + 1];
        long bRow = spec.transposeB() ? sb[batchRank + 1] : sb[batchRank];
        long bCol = spec.transposeB() ? sb[batchRank] : sb[batchRank + 1];
        long cRow = sc[batchRank];
        long cCol = sc[batchRank + 1];

        int tiles = (long) m * n * k < SPLIT_THRESHOLD ? 1 : kernels.length;
        List<Runnable> tasks = new ArrayList<>();
        List<long[]> batchOffsets = batchOffsets(batchDims, ea, eb, c);
        // one task per kernel, each taking the same tile of every matrix in the batch
        boolean splitRows = m >= n;
        int extent = splitRows ? m : n;
        int step = (extent + tiles - 1) / tiles;
        for (int t = 0; t < tiles; t++) {
            int from = t * step;
            int to = Math.min(extent, from + step);
            if (from >= to) {
                break;
            }
            GemmKernel kernel = kernels[t];
            tasks.add(() -> {
                for (long[] o : batchOffsets) {
                    if (splitRows) {
                        kernel.gemm(to - from, n, k, spec.alpha(),
                                new GemmKernel.Operand(fa, o[0] + from * aRow, aRow, aCol),
                                new GemmKernel.Operand(fb, o[1], bRow, bCol), spec.beta(),
                                new GemmKernel.Operand(fc, o[2] + from * cRow, cRow, cCol));
                    } else {
                        kernel.gemm(m, to - from, k, spec.alpha(),
                                new GemmKernel.Operand(fa, o[0], aRow, aCol),
                                new GemmKernel.Operand(fb, o[1] + from * bCol, bRow, bCol), spec.beta(),
                                new GemmKernel.Operand(fc, o[2] + from * cCol, cRow, cCol));
                    }
                }
            });
        }
        if (!tasks.isEmpty()) {
            backend.runAll(tasks);
        }
    }

    /** The element offsets of a, b and c for each matrix of the (broadcast) batch. */
    static List<long[]> batchOffsets(long[] batchDims, Tensor ea, Tensor eb, Tensor c) {
        int batchRank = batchDims.length;
        long[] sa = ea.strides();
        long[] sb = eb.strides();
        long[] sc = c.strides();
        List<long[]> batchOffsets = new ArrayList<>();
        StridedCursor batches = new StridedCursor(Shape.of(batchDims),
                new long[][] {Arrays.copyOf(sa, batchRank), Arrays.copyOf(sb, batchRank), Arrays.copyOf(sc, batchRank)},
                new long[] {ea.offset(), eb.offset(), c.offset()});
        while (batches.next()) {
            long oa = batches.offset(0);
            long ob = batches.offset(1);
            long oc = batches.offset(2);
            for (long i = batches.rowLength(); i > 0; i--) {
                batchOffsets.add(new long[] {oa, ob, oc});
                oa += batches.innerStride(0);
                ob += batches.innerStride(1);
                oc += batches.innerStride(2);
            }
        }
        return batchOffsets;
    }

    static Shape withBatch(long[] batch, Shape operand) {
        long[] dims = Arrays.copyOf(batch, batch.length + 2);
        dims[batch.length] = operand.dim(-2);
        dims[batch.length + 1] = operand.dim(-1);
        return Shape.of(dims);
    }

    @Override
    public void close() {
        // heap buffers only: nothing native to release
    }

    @Override
    public String toString() {
        return "reference " + spec;
    }
}
