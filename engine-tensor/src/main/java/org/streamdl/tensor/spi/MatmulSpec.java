package org.streamdl.tensor.spi;

import java.util.Arrays;
import java.util.Objects;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;

/**
 * An immutable description of {@code c = alpha · op(a) · op(b) + beta · c}, where {@code op} is the
 * identity or a transpose of the last two axes. Shapes: {@code a} is (..., m, k), or (..., k, m) when
 * transposed; {@code b} is (..., k, n), or (..., n, k) when transposed; leading batch axes broadcast
 * by NumPy's rules and {@code c} is (batch..., m, n). {@code beta} 0 overwrites {@code c} (its old
 * contents, NaN included, are ignored); 1 accumulates (dW += dYᵀ·X).
 */
public final class MatmulSpec {
    private int hash;
    private final DType dtype;
    private final Shape a;
    private final Shape b;
    private final Shape c;
    private final boolean transposeA;
    private final boolean transposeB;
    private final float alpha;
    private final float beta;
    private final boolean bias;
    private final boolean relu;
    private final boolean weightsB;
    private final boolean floatInput;
    private final Shape biasShape;   // derived, kept: checked on every call

    private MatmulSpec(DType dtype, Shape a, Shape b, boolean transposeA, boolean transposeB, float alpha, float beta,
                       boolean bias, boolean relu, boolean weightsB, boolean floatInput) {
        Checks.argument(dtype == DType.FLOAT32 || dtype == DType.FLOAT64 || dtype == DType.BFLOAT16,
                "matmul supports float32, float64 and bfloat16 operands but got %s; convert with Convert.to first", dtype);
        Checks.argument(a.rank() >= 2 && b.rank() >= 2,
                "matmul needs operands of rank 2 or more but got a %s and b %s", a, b);
        Checks.argument(Float.isFinite(alpha) && Float.isFinite(beta),
                "matmul: alpha and beta must be finite but were %s and %s", alpha, beta);
        long k = transposeA ? a.dim(-2) : a.dim(-1);
        long kb = transposeB ? b.dim(-1) : b.dim(-2);
        Checks.argument(k == kb, "matmul: inner dimensions differ: a%s is %s and b%s is %s",
                transposeA ? "ᵀ" : "", a, transposeB ? "ᵀ" : "", b);
        Shape batchA = Shape.of(Arrays.copyOf(a.dims(), a.rank() - 2));
        Shape batchB = Shape.of(Arrays.copyOf(b.dims(), b.rank() - 2));
        Shape batch;
        try {
            batch = Shape.broadcast(batchA, batchB);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("matmul: batch axes of a " + a + " and b " + b + " do not broadcast", e);
        }
        long[] cDims = Arrays.copyOf(batch.dims(), batch.rank() + 2);
        cDims[batch.rank()] = transposeA ? a.dim(-1) : a.dim(-2);
        cDims[batch.rank() + 1] = transposeB ? b.dim(-2) : b.dim(-1);
        this.dtype = dtype;
        this.a = a;
        this.b = b;
        this.c = Shape.of(cDims);
        this.transposeA = transposeA;
        this.transposeB = transposeB;
        this.alpha = alpha;
        this.beta = beta;
        this.bias = bias;
        this.relu = relu;
        this.weightsB = weightsB;
        this.floatInput = floatInput;
        this.biasShape = Shape.of(cDims[cDims.length - 1]);
        Checks.argument(!floatInput || dtype == DType.BFLOAT16,
                "matmul: only a bfloat16 product rounds a float32 input itself, not a %s one", dtype);
        Checks.argument(!(bias || relu) || beta == 0,
                "matmul: a bias or fused ReLU needs beta 0 (an overwritten result) but beta is %s", beta);
    }

    /** {@code c = a · b} for float32 operands of these shapes. */
    public static MatmulSpec of(Shape a, Shape b) {
        return new MatmulSpec(DType.FLOAT32, a, b, false, false, 1, 0, false, false, false, false);
    }

    public static MatmulSpec of(Shape a, Shape b, boolean transposeA, boolean transposeB) {
        return new MatmulSpec(DType.FLOAT32, a, b, transposeA, transposeB, 1, 0, false, false, false, false);
    }

    public MatmulSpec withScale(float newAlpha, float newBeta) {
        return new MatmulSpec(dtype, a, b, transposeA, transposeB, newAlpha, newBeta, bias, relu, weightsB, floatInput);
    }

    public MatmulSpec withDType(DType newDtype) {
        return new MatmulSpec(newDtype, a, b, transposeA, transposeB, alpha, beta, bias, relu, weightsB,
                floatInput && newDtype == DType.BFLOAT16);
    }

    /** Adds a bias of shape (n) to every row of the result: a Linear layer's forward. */
    public MatmulSpec withBias(boolean addBias) {
        return new MatmulSpec(dtype, a, b, transposeA, transposeB, alpha, beta, addBias, relu, weightsB, floatInput);
    }

    /** Applies max(·, 0) to the result, after the bias. */
    public MatmulSpec withRelu(boolean fuseRelu) {
        return new MatmulSpec(dtype, a, b, transposeA, transposeB, alpha, beta, bias, fuseRelu, weightsB, floatInput);
    }

    /**
     * Marks b as a layer's weights: read by many calls while it stays unchanged, so a backend may
     * keep it in its own packed layout and re-pack only when its contents change.
     */
    public MatmulSpec withWeightsB(boolean weights) {
        return new MatmulSpec(dtype, a, b, transposeA, transposeB, alpha, beta, bias, relu, weights, floatInput);
    }

    public boolean weightsB() {
        return weightsB;
    }

    public boolean hasBias() {
        return bias;
    }

    /**
     * a arrives as float32 and the plan rounds it to bfloat16 (nearest even) before the product:
     * one vectorized pass inside the backend instead of a conversion per layer in Java.
     */
    public MatmulSpec withFloatInput(boolean roundInput) {
        return new MatmulSpec(dtype, a, b, transposeA, transposeB, alpha, beta, bias, relu, weightsB, roundInput);
    }

    public boolean floatInput() {
        return floatInput;
    }

    /** The dtype operand a arrives in: float32 when the plan rounds it, else {@link #dtype()}. */
    public DType aType() {
        return floatInput ? DType.FLOAT32 : dtype;
    }

    public boolean relu() {
        return relu;
    }

    /** The bias shape, (n). */
    public Shape biasShape() {
        return biasShape;
    }

    /** The type of a and b; also of c, except that bfloat16 products accumulate into float32. */
    public DType dtype() {
        return dtype;
    }

    /** The type of c (and of the bias): float32 for bfloat16 operands, else the operands' type. */
    public DType outputType() {
        return dtype == DType.BFLOAT16 ? DType.FLOAT32 : dtype;
    }

    public Shape aShape() {
        return a;
    }

    public Shape bShape() {
        return b;
    }

    /** The result's shape: (batch..., m, n). */
    public Shape cShape() {
        return c;
    }

    public boolean transposeA() {
        return transposeA;
    }

    public boolean transposeB() {
        return transposeB;
    }

    public float alpha() {
        return alpha;
    }

    public float beta() {
        return beta;
    }

    public long m() {
        return c.dim(-2);
    }

    public long n() {
        return c.dim(-1);
    }

    public long k() {
        return transposeA ? a.dim(-2) : a.dim(-1);
    }

    /** Multiply-adds times two, for GFLOP/s figures. */
    public double flops() {
        return 2.0 * c.elementCount() * k();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MatmulSpec s && dtype == s.dtype && a.equals(s.a) && b.equals(s.b)
                && transposeA == s.transposeA && transposeB == s.transposeB && alpha == s.alpha && beta == s.beta
                && bias == s.bias && relu == s.relu && weightsB == s.weightsB && floatInput == s.floatInput;
    }

    @Override
    public int hashCode() {
        int h = hash;
        if (h == 0) {   // specs are looked up in plan caches on every call
            h = Objects.hash(dtype, a, b, transposeA, transposeB, alpha, beta, bias, relu, weightsB, floatInput);
            hash = h;
        }
        return h;
    }

    /** {@code matmul (128, 400)·(120, 400)ᵀ float32}, with the scales when they are not 1 and 0. */
    @Override
    public String toString() {
        String scale = alpha == 1 && beta == 0 ? "" : Checks.format(" alpha %s beta %s", alpha, beta);
        return Checks.format("matmul %s%s·%s%s %s%s%s%s", a, transposeA ? "ᵀ" : "", b, transposeB ? "ᵀ" : "",
                floatInput ? "float32→" + dtype : dtype, scale, bias ? " +bias" : "", relu ? " +relu" : "");
    }
}
