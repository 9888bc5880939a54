package org.streamdl.tensor.ops;

import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.reference.ReferenceBackend;
import org.streamdl.tensor.spi.MatmulPlan;
import org.streamdl.tensor.spi.MatmulSpec;

/**
 * Matrix products on the reference backend, on the caller's thread. Operands are float32 of rank 2,
 * or higher for batched products whose leading axes broadcast; transposed and strided views are
 * read in place. Code that multiplies the same shapes repeatedly, or wants several threads or
 * oneDNN, plans a {@link MatmulPlan} on a {@link org.streamdl.tensor.spi.Backend} instead.
 */
public final class Linalg {
    private Linalg() {}

    /** Made on first use, never closed: it owns no threads and no native memory. */
    private static final class Holder {
        static final ReferenceBackend BACKEND = ReferenceBackend.create(1);
    }

    /** {@code a · b}: (..., m, k)·(..., k, n) → (..., m, n), allocated from {@code allocator}. */
    public static Tensor matmul(Tensor a, Tensor b, Allocator allocator) {
        return matmul(a, b, false, false, allocator);
    }

    /** {@code op(a) · op(b)}, where op transposes the last two axes when asked. */
    public static Tensor matmul(Tensor a, Tensor b, boolean transposeA, boolean transposeB, Allocator allocator) {
        MatmulSpec spec = MatmulSpec.of(a.shape(), b.shape(), transposeA, transposeB).withDType(check(a, b));
        Tensor c = allocator.allocate(spec.outputType(), spec.cShape());
        run(spec, a, b, c);
        return c;
    }

    /** {@code c = a · b}. */
    public static void matmul(Tensor a, Tensor b, Tensor c) {
        matmul(a, b, false, false, 1, 0, c);
    }

    /** {@code c = alpha · op(a) · op(b) + beta · c}. */
    public static void matmul(Tensor a, Tensor b, boolean transposeA, boolean transposeB,
                              float alpha, float beta, Tensor c) {
        MatmulSpec spec = MatmulSpec.of(a.shape(), b.shape(), transposeA, transposeB)
                .withDType(check(a, b)).withScale(alpha, beta);
        run(spec, a, b, c);
    }

    /** {@code y = x · wᵀ}: a Linear layer's forward, x (N, in), w (out, in) → y (N, out). */
    public static void matmulTransposeB(Tensor x, Tensor w, Tensor y) {
        matmul(x, w, false, true, 1, 0, y);
    }

    /** {@code dw += dyᵀ · x}: a Linear layer's weight gradient, dy (N, out), x (N, in) → dw (out, in). */
    public static void matmulTransposeAAccumulate(Tensor dy, Tensor x, Tensor dw) {
        matmul(dy, x, true, false, 1, 1, dw);
    }

    private static DType check(Tensor a, Tensor b) {
        // MatmulSpec refuses other dtypes with a message naming them; the plan refuses mixed operands
        return a.dtype() != DType.FLOAT32 ? a.dtype() : b.dtype();
    }

    private static void run(MatmulSpec spec, Tensor a, Tensor b, Tensor c) {
        // a float product keeps nothing between calls; what it might, it keeps with the result's owner
        try (MatmulPlan plan = Holder.BACKEND.planMatmul(spec, c.storage().owner()).orElseThrow()) {
            plan.execute(a, b, c);
        }
    }
}
