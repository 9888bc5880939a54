package org.streamdl.tensor.reference;

import java.nio.FloatBuffer;

/**
 * Single-threaded float32 GEMM, {@code C = alpha·A·B + beta·C}, blocked for the cache after Goto and
 * van de Geijn ("Anatomy of High-Performance Matrix Multiplication", ACM TOMS 2008): a KC×NC block
 * of B is packed into a contiguous array that stays in L2 and serves a whole panel of rows, an MC×KC
 * block of A is packed row-major, and the micro-kernel updates four rows of a C accumulator at a time
 * with loops over contiguous columns, which HotSpot's auto-vectorizer turns into SIMD.
 *
 * <p>Operands are described by a buffer, an element offset and row and column strides, so
 * transposed and strided views need no copy. Each element of C sums its products in increasing k,
 * so results do not depend on how a caller splits C between threads.
 *
 * <p>Not thread-safe: an instance holds its packing buffers; use one per thread.
 */
public final class GemmKernel {
    static final int KC = 256;
    static final int MC = 64;
    static final int NC = 512;
    static final int M_PANEL = 1024;

    // sized on first use to what the shapes need, so small products stay small
    private float[] packedA = new float[0];
    private float[][] packedB = new float[0][];   // one array per k: see block()
    private float[] c0 = new float[0];
    private float[] c1 = new float[0];
    private float[] c2 = new float[0];
    private float[] c3 = new float[0];
    private float[] accumulator = new float[0];   // M_PANEL×NC panel of C, summed over all of K

    /** A row-major-or-not view of a matrix inside a float buffer. */
    public record Operand(FloatBuffer buffer, long offset, long rowStride, long colStride) {
        float get(long row, long col) {
            return buffer.get((int) (offset + row * rowStride + col * colStride));
        }
    }

    /** C (m×n) = alpha · A (m×k) · B (k×n) + beta · C; beta 0 ignores C's old contents. */
    public void gemm(int m, int n, int k, float alpha, Operand a, Operand b, float beta, Operand c) {
        if (m == 0 || n == 0) {
            return;
        }
        reserve(Math.min(m, M_PANEL), Math.min(n, NC), Math.min(k, KC));
        for (int mb = 0; mb < m; mb += M_PANEL) {
            int mp = Math.min(M_PANEL, m - mb);
            for (int jc = 0; jc < n; jc += NC) {
                int nc = Math.min(NC, n - jc);
                java.util.Arrays.fill(accumulator, 0, mp * nc, 0f);
                for (int pc = 0; pc < k; pc += KC) {
                    int kc = Math.min(KC, k - pc);
                    packB(b, pc, jc, kc, nc);          // once per (jc, pc), reused by every row block
                    for (int ic = 0; ic < mp; ic += MC) {
                        int mc = Math.min(MC, mp - ic);
                        packA(a, mb + ic, pc, mc, kc);
                        block(ic * nc, mc, nc, kc);
                    }
                }
                store(c, mb, jc, mp, nc, alpha, beta);
            }
        }
    }

    private void reserve(int rows, int cols, int depth) {
        if (accumulator.length < rows * cols) {
            accumulator = new float[rows * cols];
        }
        if (packedA.length < Math.min(rows, MC) * depth) {
            packedA = new float[Math.min(rows, MC) * depth];
        }
        if (packedB.length < Math.max(depth, 1) || packedB[0].length < cols) {
            packedB = new float[Math.max(depth, 1)][cols];
        }
        if (c0.length < cols) {
            c0 = new float[cols];
            c1 = new float[cols];
            c2 = new float[cols];
            c3 = new float[cols];
        }
    }

    private void packA(Operand a, int row0, int col0, int mc, int kc) {
        for (int i = 0; i < mc; i++) {
            int base = i * kc;
            if (a.colStride() == 1) {
                a.buffer().get((int) (a.offset() + (row0 + i) * a.rowStride() + col0), packedA, base, kc);
            } else {
                for (int p = 0; p < kc; p++) {
                    packedA[base + p] = a.get(row0 + i, col0 + p);
                }
            }
        }
    }

    private void packB(Operand b, int row0, int col0, int kc, int nc) {
        for (int p = 0; p < kc; p++) {
            float[] row = packedB[p];
            if (b.colStride() == 1) {
                b.buffer().get((int) (b.offset() + (row0 + p) * b.rowStride() + col0), row, 0, nc);
            } else {
                for (int j = 0; j < nc; j++) {
                    row[j] = b.get(row0 + p, col0 + j);
                }
            }
        }
    }

    /**
     * accumulator[rows from base, 0:mc, 0:nc] += packedA[0:mc, 0:kc] · packedB[0:kc][0:nc].
     *
     * <p>The inner loops index every array with the same {@code j} and no offset: C2's
     * auto-vectorizer cannot prove that two float arrays are distinct, and only with equal indices
     * is a possible overlap harmless. That is why B is packed as one array per k and each row of C
     * is copied into its own array (measured: about 5x faster than offsets into one array).
     */
    private void block(int base, int mc, int nc, int kc) {
        float[] pa = packedA;
        float[][] pb = packedB;
        float[] acc = accumulator;
        int i = 0;
        for (; i + 4 <= mc; i += 4) {
            System.arraycopy(acc, base + i * nc, c0, 0, nc);
            System.arraycopy(acc, base + (i + 1) * nc, c1, 0, nc);
            System.arraycopy(acc, base + (i + 2) * nc, c2, 0, nc);
            System.arraycopy(acc, base + (i + 3) * nc, c3, 0, nc);
            int a0 = i * kc;
            int a1 = a0 + kc;
            int a2 = a1 + kc;
            int a3 = a2 + kc;
            for (int p = 0; p < kc; p++) {
                float x0 = pa[a0 + p];
                float x1 = pa[a1 + p];
                float x2 = pa[a2 + p];
                float x3 = pa[a3 + p];
                float[] row = pb[p];
                for (int j = 0; j < nc; j++) {
                    float y = row[j];
                    c0[j] += x0 * y;
                    c1[j] += x1 * y;
                    c2[j] += x2 * y;
                    c3[j] += x3 * y;
                }
            }
            System.arraycopy(c0, 0, acc, base + i * nc, nc);
            System.arraycopy(c1, 0, acc, base + (i + 1) * nc, nc);
            System.arraycopy(c2, 0, acc, base + (i + 2) * nc, nc);
            System.arraycopy(c3, 0, acc, base + (i + 3) * nc, nc);
        }
        for (; i < mc; i++) {
            System.arraycopy(acc, base + i * nc, c0, 0, nc);
            int ai = i * kc;
            for (int p = 0; p < kc; p++) {
                float x = pa[ai + p];
                float[] row = pb[p];
                for (int j = 0; j < nc; j++) {
                    c0[j] += x * row[j];
                }
            }
            System.arraycopy(c0, 0, acc, base + i * nc, nc);
        }
    }

    private void store(Operand c, int row0, int col0, int mc, int nc, float alpha, float beta) {
        FloatBuffer out = c.buffer();
        for (int i = 0; i < mc; i++) {
            int ai = i * nc;
            long rowBase = c.offset() + (row0 + i) * c.rowStride() + col0 * c.colStride();
            for (int j = 0; j < nc; j++) {
                int at = (int) (rowBase + j * c.colStride());
                float v = alpha * accumulator[ai + j];
                out.put(at, beta == 0 ? v : v + beta * out.get(at));
            }
        }
    }
}
