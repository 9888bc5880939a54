package org.streamdl.dnn.layers;

import java.util.List;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.Values;
import org.streamdl.dnn.init.Initializer;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.Conv2dSpec;

/**
 * 2-D transposed convolution (PyTorch's ConvTranspose2d, ONNX's ConvTranspose): the adjoint of a
 * convolution. Shapes: x (N, C, H, W), W (C, OC/groups, KH, KW), b (OC) → y (N, OC, OH, OW) with
 * OH = (H − 1)·stride − 2·padding + dilation·(KH − 1) + outputPadding + 1.
 *
 * <p>It runs on the convolution kernels of the backend: with the convolution C that maps
 * (N, OC, OH, OW) to (N, C, H, W) under the same weights, forward is C's backward-data pass,
 * the input gradient is C's forward pass, and the weight gradient is C's backward-weights pass
 * with the roles of input and output gradient exchanged.
 */
public final class ConvTranspose2d implements Layer {
    private final String name;
    private final int inChannels;
    private final int outChannels;
    private final int kernelH;
    private final int kernelW;
    private final int stride;
    private final int padding;
    private final int dilation;
    private final int groups;
    private final int outputPadding;
    private final Parameter weight;
    private final Parameter bias;
    private Tensor input;

    public ConvTranspose2d(ParameterFactory params, String name, int inChannels, int outChannels, int kernelH, int kernelW,
                           int stride, int padding, int dilation, int groups, int outputPadding, boolean withBias) {
        Checks.argument(inChannels > 0 && outChannels > 0 && groups > 0, "%s: channels and groups must be positive", name);
        Checks.argument(inChannels % groups == 0 && outChannels % groups == 0,
                "%s: %s input and %s output channels do not divide into %s groups", name, inChannels, outChannels, groups);
        Checks.argument(stride > 0 && dilation > 0 && padding >= 0, "%s: stride and dilation must be positive, padding >= 0",
                name);
        Checks.argument(outputPadding >= 0 && (outputPadding < stride || outputPadding < dilation),
                "%s: outputPadding %s must be smaller than the stride or the dilation", name, outputPadding);
        this.name = name;
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelH = kernelH;
        this.kernelW = kernelW;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.groups = groups;
        this.outputPadding = outputPadding;
        // PyTorch initializes with the fan-in of the weight's dim 1 (OC/groups · KH · KW)
        long fanIn = (long) outChannels / groups * kernelH * kernelW;
        long fanOut = (long) inChannels / groups * kernelH * kernelW;
        this.weight = params.create(name + ".weight", Shape.of(inChannels, outChannels / groups, kernelH, kernelW),
                Initializer.pytorchDefault(), fanIn, fanOut);
        this.bias = withBias ? params.create(name + ".bias", Shape.of(outChannels), Initializer.pytorchDefault(), fanIn, fanOut)
                : null;
    }

    /** The convolution whose adjoint this layer is, for an input of {@code x}'s shape. */
    private Conv2dSpec adjointOf(Tensor x) {
        long oh = (x.shape().dim(2) - 1) * stride - 2L * padding + (long) dilation * (kernelH - 1) + outputPadding + 1;
        long ow = (x.shape().dim(3) - 1) * stride - 2L * padding + (long) dilation * (kernelW - 1) + outputPadding + 1;
        Checks.argument(oh > 0 && ow > 0, "%s: input %s gives an empty output", this, x.shape());
        return Conv2dSpec.of(Shape.of(x.shape().dim(0), outChannels, oh, ow), inChannels, kernelH, kernelW)
                .withStride(stride, stride).withPadding(padding, padding).withDilation(dilation, dilation)
                .withGroups(groups).withBias(false).withDType(x.dtype());
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        Checks.argument(x.rank() == 4 && x.shape().dim(1) == inChannels,
                "%s: expected input (N, %s, H, W) but got %s", this, inChannels, x.shape());
        input = x;
        Conv2dSpec adjoint = adjointOf(x);
        Tensor y = ctx.step().allocateUninitialized(x.dtype(), adjoint.inputShape());
        ctx.kernels().conv2d(adjoint).backwardData(x.contiguous(ctx.step()), weight.value(), y);
        if (bias != null) {
            Values out = Values.of(y);
            Values b = Values.of(bias.value());
            int plane = (int) (y.shape().dim(2) * y.shape().dim(3));
            for (int i = 0; i < out.size(); i++) {
                out.add(i, b.get(i / plane % outChannels));
            }
        }
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Checks.state(input != null, "%s: backward before forward", this);
        Tensor g = dy.contiguous(ctx.step());
        Conv2dPlan plan = ctx.kernels().conv2d(adjointOf(input));
        Tensor x = input.contiguous(ctx.step());
        plan.backwardWeights(g, x, weight.grad(), null);
        if (bias != null) {
            Values db = Values.of(bias.grad());
            Values d = Values.of(g);
            for (int c = 0; c < outChannels; c++) {
                db.set(c, 0);
            }
            int plane = (int) (g.shape().dim(2) * g.shape().dim(3));
            for (int i = 0; i < d.size(); i++) {
                db.add(i / plane % outChannels, d.get(i));
            }
        }
        Tensor dx = ctx.step().allocateUninitialized(input.dtype(), input.shape());
        plan.forward(g, weight.value(), null, dx);
        return dx;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Parameter> parameters() {
        return bias == null ? List.of(weight) : List.of(weight, bias);
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("ConvTranspose2d", name, "in", inChannels, "out", outChannels, "kernelH", kernelH,
                "kernelW", kernelW, "stride", stride, "padding", padding, "dilation", dilation, "groups", groups,
                "outputPadding", outputPadding, "bias", bias != null);
    }

    @Override
    public String toString() {
        return name + " (ConvTranspose2d " + inChannels + "→" + outChannels + ", " + kernelH + "x" + kernelW + ")";
    }
}
