package org.streamdl.dnn.layers;

import org.streamdl.dnn.Context;
import org.streamdl.dnn.Values;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/** The mean over each channel's plane: (N, C, H, W) → (N, C, 1, 1), as AdaptiveAvgPool2d(1). */
public final class GlobalAvgPool2d implements Layer {
    private final String name;
    private Shape inputShape;

    public GlobalAvgPool2d(String name) {
        this.name = name;
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        Checks.argument(x.rank() == 4, "%s: expected input (N, C, H, W) but got %s", this, x.shape());
        inputShape = x.shape();
        Tensor in = x.contiguous(ctx.step());
        int planes = (int) (x.shape().dim(0) * x.shape().dim(1));
        int area = (int) (x.shape().dim(2) * x.shape().dim(3));
        Tensor y = ctx.step().allocateUninitialized(x.dtype(), Shape.of(x.shape().dim(0), x.shape().dim(1), 1, 1));
        Values a = Values.of(in);
        Values out = Values.of(y);
        for (int p = 0; p < planes; p++) {
            double sum = 0;
            int base = p * area;
            for (int i = 0; i < area; i++) {
                sum += a.get(base + i);
            }
            out.set(p, sum / area);
        }
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Checks.state(inputShape != null, "%s: backward before forward", this);
        Tensor g = dy.contiguous(ctx.step());
        Tensor dx = ctx.step().allocateUninitialized(g.dtype(), inputShape);
        int planes = (int) (inputShape.dim(0) * inputShape.dim(1));
        int area = (int) (inputShape.dim(2) * inputShape.dim(3));
        Values a = Values.of(g);
        Values out = Values.of(dx);
        for (int p = 0; p < planes; p++) {
            double share = a.get(p) / area;
            for (int i = 0; i < area; i++) {
                out.set(p * area + i, share);
            }
        }
        return dx;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("GlobalAvgPool2d", name);
    }

    @Override
    public String toString() {
        return name + " (GlobalAvgPool2d)";
    }
}
