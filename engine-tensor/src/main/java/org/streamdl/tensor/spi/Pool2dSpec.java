package org.streamdl.tensor.spi;

import java.util.Objects;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;

/**
 * An immutable description of 2-D max or average pooling over NCHW input: x (N, C, H, W) → y (N, C,
 * OH, OW), {@code OH = (H + 2·padH − KH) / strideH + 1} (floor). Average pooling counts padded
 * positions in the divisor when {@code countIncludePad} (PyTorch's default).
 */
public final class Pool2dSpec {
    private int hash;
    public enum Kind { MAX, AVG }

    private final Kind kind;
    private final Shape input;
    private final long kernelH;
    private final long kernelW;
    private final long strideH;
    private final long strideW;
    private final long padH;
    private final long padW;
    private final boolean countIncludePad;
    private final DType dtype;
    private final Shape output;    // derived, kept: layers ask for it on every call

    private Pool2dSpec(Kind kind, Shape input, long kernelH, long kernelW, long strideH, long strideW,
                       long padH, long padW, boolean countIncludePad, DType dtype) {
        Checks.argument(dtype == DType.FLOAT32 || dtype == DType.FLOAT64, "pool supports float32 and float64 but got %s", dtype);
        Checks.argument(input.rank() == 4, "%s pool: expected input (N, C, H, W) but got %s", kind, input);
        Checks.argument(kernelH > 0 && kernelW > 0 && strideH > 0 && strideW > 0 && padH >= 0 && padW >= 0,
                "pool: kernel %sx%s and stride %sx%s must be positive, padding %sx%s non-negative",
                kernelH, kernelW, strideH, strideW, padH, padW);
        Checks.argument(padH * 2 <= kernelH && padW * 2 <= kernelW,
                "pool: padding %sx%s must be at most half the kernel %sx%s", padH, padW, kernelH, kernelW);
        this.kind = kind;
        this.input = input;
        this.kernelH = kernelH;
        this.kernelW = kernelW;
        this.strideH = strideH;
        this.strideW = strideW;
        this.padH = padH;
        this.padW = padW;
        this.countIncludePad = countIncludePad;
        this.dtype = dtype;
        Checks.argument(outH() > 0 && outW() > 0, "pool: a %sx%s window does not fit input %s", kernelH, kernelW, input);
        this.output = Shape.of(input.dim(0), input.dim(1), outH(), outW());
    }

    /** Stride equal to the kernel, no padding (PyTorch's default). */
    public static Pool2dSpec of(Kind kind, Shape input, long kernelH, long kernelW) {
        return new Pool2dSpec(kind, input, kernelH, kernelW, kernelH, kernelW, 0, 0, true, DType.FLOAT32);
    }

    public Pool2dSpec withStride(long h, long w) {
        return new Pool2dSpec(kind, input, kernelH, kernelW, h, w, padH, padW, countIncludePad, dtype);
    }

    public Pool2dSpec withPadding(long h, long w) {
        return new Pool2dSpec(kind, input, kernelH, kernelW, strideH, strideW, h, w, countIncludePad, dtype);
    }

    public Pool2dSpec withCountIncludePad(boolean include) {
        return new Pool2dSpec(kind, input, kernelH, kernelW, strideH, strideW, padH, padW, include, dtype);
    }

    public Pool2dSpec withInput(Shape newInput) {
        return new Pool2dSpec(kind, newInput, kernelH, kernelW, strideH, strideW, padH, padW, countIncludePad, dtype);
    }

    /** The same pooling on {@code newType} elements (float32 or float64). */
    public Pool2dSpec withDType(DType newType) {
        return new Pool2dSpec(kind, input, kernelH, kernelW, strideH, strideW, padH, padW, countIncludePad, newType);
    }

    public DType dtype() {
        return dtype;
    }

    public Kind kind() {
        return kind;
    }

    public Shape inputShape() {
        return input;
    }

    public Shape outputShape() {
        return output;
    }

    public long outH() {
        return (input.dim(2) + 2 * padH - kernelH) / strideH + 1;
    }

    public long outW() {
        return (input.dim(3) + 2 * padW - kernelW) / strideW + 1;
    }

    public long kernelH() {
        return kernelH;
    }

    public long kernelW() {
        return kernelW;
    }

    public long strideH() {
        return strideH;
    }

    public long strideW() {
        return strideW;
    }

    public long padH() {
        return padH;
    }

    public long padW() {
        return padW;
    }

    public boolean countIncludePad() {
        return countIncludePad;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Pool2dSpec s && kind == s.kind && input.equals(s.input) && kernelH == s.kernelH
                && kernelW == s.kernelW && strideH == s.strideH && strideW == s.strideW && padH == s.padH
                && padW == s.padW && countIncludePad == s.countIncludePad && dtype == s.dtype;
    }

    @Override
    public int hashCode() {
        int h = hash;
        if (h == 0) {   // specs are looked up in plan caches on every call
            h = Objects.hash(kind, input, kernelH, kernelW, strideH, strideW, padH, padW, countIncludePad, dtype);
            hash = h;
        }
        return h;
    }

    @Override
    public String toString() {
        return Checks.format("%spool %s %sx%s stride %sx%s pad %sx%s", kind.name().toLowerCase(java.util.Locale.ROOT),
                input, kernelH, kernelW, strideH, strideW, padH, padW);
    }
}
