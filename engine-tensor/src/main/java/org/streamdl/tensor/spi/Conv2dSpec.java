package org.streamdl.tensor.spi;

import java.util.Objects;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;

/**
 * An immutable description of a 2-D convolution (cross-correlation, as in PyTorch) over NCHW input
 * with OIHW weights: x (N, C, H, W), w (OC, C / groups, KH, KW), optional bias (OC) → y (N, OC, OH,
 * OW), where {@code OH = (H + 2·padH − dilationH·(KH − 1) − 1) / strideH + 1} and likewise OW.
 * Padding is symmetric. {@code relu} fuses max(y, 0) into the forward pass.
 */
public final class Conv2dSpec {
    private int hash;
    private final Shape input;
    private final long outChannels;
    private final long kernelH;
    private final long kernelW;
    private final long strideH;
    private final long strideW;
    private final long padH;
    private final long padW;
    private final long dilationH;
    private final long dilationW;
    private final long groups;
    private final boolean bias;
    private final boolean relu;
    private final DType dtype;
    private final Shape output;    // derived, kept: layers ask for them on every call
    private final Shape weights;
    private final Shape biasShape;

    private Conv2dSpec(Shape input, long outChannels, long kernelH, long kernelW, long strideH, long strideW,
                       long padH, long padW, long dilationH, long dilationW, long groups, boolean bias, boolean relu, DType dtype) {
        Checks.argument(dtype == DType.FLOAT32 || dtype == DType.FLOAT64, "conv2d supports float32 and float64 but got %s", dtype);
        Checks.argument(input.rank() == 4, "conv2d: expected input (N, C, H, W) but got %s", input);
        Checks.argument(outChannels > 0 && kernelH > 0 && kernelW > 0,
                "conv2d: out channels and kernel size must be positive but were %s and %sx%s", outChannels, kernelH, kernelW);
        Checks.argument(strideH > 0 && strideW > 0 && dilationH > 0 && dilationW > 0 && padH >= 0 && padW >= 0,
                "conv2d: stride %sx%s and dilation %sx%s must be positive, padding %sx%s non-negative",
                strideH, strideW, dilationH, dilationW, padH, padW);
        Checks.argument(groups > 0 && input.dim(1) % groups == 0 && outChannels % groups == 0,
                "conv2d: %s groups must divide both %s input channels and %s output channels",
                groups, input.dim(1), outChannels);
        this.input = input;
        this.outChannels = outChannels;
        this.kernelH = kernelH;
        this.kernelW = kernelW;
        this.strideH = strideH;
        this.strideW = strideW;
        this.padH = padH;
        this.padW = padW;
        this.dilationH = dilationH;
        this.dilationW = dilationW;
        this.groups = groups;
        this.bias = bias;
        this.relu = relu;
        this.dtype = dtype;
        Checks.argument(outH() > 0 && outW() > 0,
                "conv2d: a %sx%s kernel (dilation %sx%s, padding %sx%s) does not fit input %s",
                kernelH, kernelW, dilationH, dilationW, padH, padW, input);
        this.output = Shape.of(input.dim(0), outChannels, outH(), outW());
        this.weights = Shape.of(outChannels, input.dim(1) / groups, kernelH, kernelW);
        this.biasShape = Shape.of(outChannels);
    }

    /** Stride 1, no padding, no dilation, one group, with bias, no fused ReLU. */
    public static Conv2dSpec of(Shape input, long outChannels, long kernelH, long kernelW) {
        return new Conv2dSpec(input, outChannels, kernelH, kernelW, 1, 1, 0, 0, 1, 1, 1, true, false, DType.FLOAT32);
    }

    public Conv2dSpec withStride(long h, long w) {
        return new Conv2dSpec(input, outChannels, kernelH, kernelW, h, w, padH, padW, dilationH, dilationW, groups, bias, relu, dtype);
    }

    public Conv2dSpec withPadding(long h, long w) {
        return new Conv2dSpec(input, outChannels, kernelH, kernelW, strideH, strideW, h, w, dilationH, dilationW, groups, bias, relu, dtype);
    }

    public Conv2dSpec withDilation(long h, long w) {
        return new Conv2dSpec(input, outChannels, kernelH, kernelW, strideH, strideW, padH, padW, h, w, groups, bias, relu, dtype);
    }

    public Conv2dSpec withGroups(long g) {
        return new Conv2dSpec(input, outChannels, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, g, bias, relu, dtype);
    }

    public Conv2dSpec withBias(boolean b) {
        return new Conv2dSpec(input, outChannels, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, groups, b, relu, dtype);
    }

    public Conv2dSpec withRelu(boolean r) {
        return new Conv2dSpec(input, outChannels, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, groups, bias, r, dtype);
    }

    /** The same convolution for another input shape (a smaller last batch, say). */
    public Conv2dSpec withInput(Shape newInput) {
        return new Conv2dSpec(newInput, outChannels, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, groups, bias, relu, dtype);
    }

    /** The same convolution on {@code newType} elements (float32 or float64). */
    public Conv2dSpec withDType(DType newType) {
        return new Conv2dSpec(input, outChannels, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW, groups, bias, relu, newType);
    }

    public DType dtype() {
        return dtype;
    }

    public Shape inputShape() {
        return input;
    }

    public Shape weightShape() {
        return weights;
    }

    public Shape biasShape() {
        return biasShape;
    }

    public Shape outputShape() {
        return output;
    }

    public long outH() {
        return (input.dim(2) + 2 * padH - dilationH * (kernelH - 1) - 1) / strideH + 1;
    }

    public long outW() {
        return (input.dim(3) + 2 * padW - dilationW * (kernelW - 1) - 1) / strideW + 1;
    }

    public long batchSize() {
        return input.dim(0);
    }

    public long inChannels() {
        return input.dim(1);
    }

    public long outChannels() {
        return outChannels;
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

    public long dilationH() {
        return dilationH;
    }

    public long dilationW() {
        return dilationW;
    }

    public long groups() {
        return groups;
    }

    public boolean hasBias() {
        return bias;
    }

    public boolean relu() {
        return relu;
    }

    /** Forward multiply-adds times two. */
    public double flops() {
        return 2.0 * outputShape().elementCount() * (inChannels() / groups) * kernelH * kernelW;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Conv2dSpec s && input.equals(s.input) && outChannels == s.outChannels
                && kernelH == s.kernelH && kernelW == s.kernelW && strideH == s.strideH && strideW == s.strideW
                && padH == s.padH && padW == s.padW && dilationH == s.dilationH && dilationW == s.dilationW
                && groups == s.groups && bias == s.bias && relu == s.relu && dtype == s.dtype;
    }

    @Override
    public int hashCode() {
        int h = hash;
        if (h == 0) {   // specs are looked up in plan caches on every call
            h = Objects.hash(input, outChannels, kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW,
                groups, bias, relu, dtype);
            hash = h;
        }
        return h;
    }

    /** {@code conv2d (128, 1, 28, 28) 1→6 5x5 pad 2 +relu}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(Checks.format("conv2d %s %s→%s %sx%s", input, inChannels(), outChannels,
                kernelH, kernelW));
        if (strideH != 1 || strideW != 1) {
            sb.append(Checks.format(" stride %sx%s", strideH, strideW));
        }
        if (padH != 0 || padW != 0) {
            sb.append(padH == padW ? " pad " + padH : Checks.format(" pad %sx%s", padH, padW));
        }
        if (dilationH != 1 || dilationW != 1) {
            sb.append(Checks.format(" dilation %sx%s", dilationH, dilationW));
        }
        if (groups != 1) {
            sb.append(" groups ").append(groups);
        }
        if (!bias) {
            sb.append(" no bias");
        }
        if (relu) {
            sb.append(" +relu");
        }
        return sb.toString();
    }
}
