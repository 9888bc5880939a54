package org.streamdl.dnn.layers;

import java.util.List;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.init.Initializer;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.Conv2dSpec;
import org.streamdl.tensor.spi.ConvPoolPlan;
import org.streamdl.tensor.spi.ConvPoolSpec;

/**
 * 2-D convolution (cross-correlation, as PyTorch's Conv2d). Shapes: x (N, C, H, W), W (OC, C/groups,
 * KH, KW), b (OC) → y (N, OC, OH, OW).
 */
public final class Conv2d implements Layer, FusesRelu {
    private final String name;
    private final Conv2dSpec template;      // geometry; the batch size comes from each input
    private final Parameter weight;
    private final Parameter bias;
    private boolean relu;
    private boolean inputGradient = true;
    private Pool2d pool;               // a following pooling layer run with this convolution, or null
    private Conv2dSpec lastSpec;       // for the last input shape: rebuilding specs per call was most of a call's garbage
    private ConvPoolSpec lastBlock;
    private Tensor input;
    private Tensor output;
    private Tensor workspace;

    /** Builds with square kernel, stride, padding and dilation, one group, and a bias. */
    public Conv2d(ParameterFactory params, String name, int inChannels, int outChannels, int kernel, int stride, int padding) {
        this(params, name, inChannels, outChannels, kernel, kernel, stride, padding, 1, 1, true);
    }

    public Conv2d(ParameterFactory params, String name, int inChannels, int outChannels, int kernelH, int kernelW,
                  int stride, int padding, int dilation, int groups, boolean withBias) {
        Checks.argument(inChannels > 0 && outChannels > 0, "%s: channel counts must be positive", name);
        this.name = name;
        // a placeholder spatial size large enough for any kernel: only the geometry is used
        long side = (long) Math.max(kernelH, kernelW) * dilation + 1;
        this.template = Conv2dSpec.of(Shape.of(1, inChannels, side, side), outChannels, kernelH, kernelW)
                .withStride(stride, stride).withPadding(padding, padding).withDilation(dilation, dilation)
                .withGroups(groups).withBias(withBias);
        long fanIn = (long) inChannels / groups * kernelH * kernelW;
        long fanOut = (long) outChannels / groups * kernelH * kernelW;
        this.weight = params.create(name + ".weight", template.weightShape(), Initializer.pytorchDefault(), fanIn, fanOut);
        this.bias = withBias ? params.create(name + ".bias", template.biasShape(), Initializer.pytorchDefault(), fanIn, fanOut) : null;
    }

    /** The geometry and bias of this layer (batch size 1, a placeholder spatial size), without its fused ReLU. */
    public Conv2dSpec geometry() {
        return template;
    }

    @Override
    public void skipInputGradient() {
        inputGradient = false;
    }

    @Override
    public void fuseRelu() {
        relu = true;
    }

    /**
     * Runs {@code following} (unpadded pooling) in the same plan, so the convolution's output stays in
     * the backend's preferred layout; the container then skips that pooling layer.
     */
    public boolean fusePool(Pool2d following) {
        if (following.padding() != 0 || pool != null) {
            return false;
        }
        pool = following;
        return true;
    }

    private ConvPoolSpec blockSpec(Tensor x) {
        ConvPoolSpec block = lastBlock;
        if (block == null || !block.inputShape().equals(x.shape()) || block.conv().dtype() != x.dtype()
                || block.conv().relu() != relu) {
            block = ConvPoolSpec.of(convSpec(x), pool.kind(), pool.kernel(), pool.stride());
            lastBlock = block;
        }
        return block;
    }

    private Conv2dSpec convSpec(Tensor x) {
        Conv2dSpec spec = lastSpec;
        if (spec == null || !spec.inputShape().equals(x.shape()) || spec.dtype() != x.dtype() || spec.relu() != relu) {
            spec = template.withInput(x.shape()).withRelu(relu).withDType(x.dtype());
            lastSpec = spec;
        }
        return spec;
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        if (x.rank() != 4 || x.shape().dim(1) != template.inChannels()) {   // no varargs array on the hot path
            throw new IllegalArgumentException(Checks.format("%s: expected input (N, %s, H, W) but got %s%s", this,
                    template.inChannels(), x.shape(), x.rank() == 2 ? "; reshape it to (N, C, H, W)" : ""));
        }
        input = x;
        if (pool != null) {
            ConvPoolSpec block = blockSpec(x);
            ConvPoolPlan plan = ctx.kernels().convPool(block);
            Tensor y = ctx.step().allocateUninitialized(x.dtype(), block.outputShape());
            workspace = ctx.training() ? ctx.step().allocateUninitialized(DType.UINT8, Shape.of(plan.workspaceBytes())) : null;
            plan.forward(x, weight.value(), bias == null ? null : bias.value(), y, workspace);
            output = y;
            return y;
        }
        Conv2dSpec spec = convSpec(x);
        Tensor y = ctx.step().allocateUninitialized(x.dtype(), spec.outputShape());
        ctx.kernels().conv2d(spec).forward(x, weight.value(), bias == null ? null : bias.value(), y);
        output = relu ? y : null;
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Checks.state(input != null, "%s: backward before forward", this);
        if (pool != null) {
            Checks.state(workspace != null, "%s: backward needs a training forward pass first", this);
            Tensor dx = inputGradient ? ctx.step().allocateUninitialized(input.dtype(), input.shape()) : null;
            ctx.kernels().convPool(blockSpec(input)).backward(input, weight.value(), output,
                    dy.contiguous(ctx.step()), workspace, dx, weight.grad(), bias == null ? null : bias.grad());
            return dx;
        }
        Tensor g = relu ? Activations.reluMask(dy, output, ctx.step()) : dy;
        Conv2dPlan plan = ctx.kernels().conv2d(convSpec(input));
        plan.backwardWeights(input, g, weight.grad(), bias == null ? null : bias.grad());
        if (!inputGradient) {
            return null;
        }
        Tensor dx = ctx.step().allocateUninitialized(input.dtype(), input.shape());
        plan.backwardData(g, weight.value(), dx);
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
        return LayerConfig.of("Conv2d", name, "in", template.inChannels(), "out", template.outChannels(),
                "kernelH", template.kernelH(), "kernelW", template.kernelW(), "stride", template.strideH(),
                "padding", template.padH(), "dilation", template.dilationH(), "groups", template.groups(),
                "bias", bias != null);
    }

    /** {@code conv1 (Conv2d 1→6, 5x5)}. */
    @Override
    public String toString() {
        return name + " (Conv2d " + template.inChannels() + "→" + template.outChannels() + ", " + template.kernelH() + "x"
                + template.kernelW() + (relu ? " +relu" : "") + (pool != null ? " +" + pool.config().type() : "") + ")";
    }
}
