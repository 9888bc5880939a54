package org.streamdl.dnn.layers;

import org.streamdl.dnn.Context;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.Pool2dPlan;
import org.streamdl.tensor.spi.Pool2dSpec;

/** Max or average pooling over (N, C, H, W) (MaxPool2d, AvgPool2d); stride defaults to the kernel. */
public final class Pool2d implements Layer {
    private final String name;
    private final Pool2dSpec.Kind kind;
    private final int kernel;
    private final int stride;
    private final int padding;
    private Pool2dSpec spec;
    private Tensor workspace;

    public Pool2d(String name, Pool2dSpec.Kind kind, int kernel, int stride, int padding) {
        Checks.argument(kernel > 0 && stride > 0 && padding >= 0, "%s: kernel and stride must be positive", name);
        this.name = name;
        this.kind = kind;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
    }

    public static Pool2d max(String name, int kernel) {
        return new Pool2d(name, Pool2dSpec.Kind.MAX, kernel, kernel, 0);
    }

    public static Pool2d avg(String name, int kernel) {
        return new Pool2d(name, Pool2dSpec.Kind.AVG, kernel, kernel, 0);
    }

    public Pool2dSpec.Kind kind() {
        return kind;
    }

    public int kernel() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return padding;
    }

    private Pool2dSpec spec(Tensor x) {
        return Pool2dSpec.of(kind, x.shape(), kernel, kernel).withStride(stride, stride).withPadding(padding, padding)
                .withDType(x.dtype());
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        Checks.argument(x.rank() == 4, "%s: expected input (N, C, H, W) but got %s", this, x.shape());
        spec = spec(x);
        Pool2dPlan plan = ctx.kernels().pool2d(spec);
        Tensor y = ctx.step().allocateUninitialized(x.dtype(), spec.outputShape());
        workspace = ctx.training() && plan.workspaceBytes() > 0 ? ctx.step().allocateUninitialized(DType.UINT8, org.streamdl.tensor.Shape.of(plan.workspaceBytes())) : null;
        plan.forward(x, y, workspace);
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Checks.state(spec != null, "%s: backward before forward", this);
        Tensor dx = ctx.step().allocateUninitialized(spec.dtype(), spec.inputShape());
        ctx.kernels().pool2d(spec).backward(dy, workspace, dx);
        return dx;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of(kind == Pool2dSpec.Kind.MAX ? "MaxPool2d" : "AvgPool2d", name,
                "kernel", kernel, "stride", stride, "padding", padding);
    }

    @Override
    public String toString() {
        return name + " (" + config().type() + " " + kernel + "x" + kernel + ")";
    }
}
