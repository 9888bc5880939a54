package org.streamdl.dnn.layers;

import org.streamdl.dnn.Context;
import org.streamdl.dnn.Values;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;

/**
 * Softmax, or log-softmax, over the last axis, with the row maximum subtracted for stability.
 * Backward: softmax dx = y ⊙ (dy − Σ dy·y); log-softmax dx = dy − softmax · Σ dy.
 */
public final class Softmax implements Layer {
    private final String name;
    private final boolean log;
    private Tensor output;

    private Softmax(String name, boolean log) {
        this.name = name;
        this.log = log;
    }

    public static Softmax softmax(String name) {
        return new Softmax(name, false);
    }

    public static Softmax logSoftmax(String name) {
        return new Softmax(name, true);
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        Checks.argument(x.rank() >= 1, "%s: expected an input of rank 1 or more but got %s", this, x.shape());
        Values.checkFloating(this, x);
        Tensor in = x.contiguous(ctx.step());
        output = ctx.step().allocateUninitialized(x.dtype(), x.shape());
        Values a = Values.of(in);
        Values y = Values.of(output);
        int width = (int) x.shape().dim(-1);
        int rows = width == 0 ? 0 : (int) (x.elementCount() / width);
        for (int r = 0; r < rows; r++) {
            int base = r * width;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < width; j++) {
                max = Math.max(max, a.get(base + j));
            }
            double sum = 0;
            for (int j = 0; j < width; j++) {
                sum += Math.exp(a.get(base + j) - max);
            }
            double logSum = Math.log(sum) + max;
            for (int j = 0; j < width; j++) {
                double logP = a.get(base + j) - logSum;
                y.set(r * width + j, log ? logP : Math.exp(logP));
            }
        }
        return output;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Checks.state(output != null, "%s: backward before forward", this);
        Tensor g = dy.contiguous(ctx.step());
        Tensor dx = ctx.step().allocateUninitialized(output.dtype(), g.shape());
        Values gy = Values.of(g);
        Values y = Values.of(output);
        Values out = Values.of(dx);
        int width = (int) g.shape().dim(-1);
        int rows = width == 0 ? 0 : (int) (g.elementCount() / width);
        for (int r = 0; r < rows; r++) {
            int gb = r * width;
            int yb = r * width;
            double dot = 0;
            for (int j = 0; j < width; j++) {
                dot += log ? gy.get(gb + j) : gy.get(gb + j) * y.get(yb + j);
            }
            for (int j = 0; j < width; j++) {
                double v = log
                        ? gy.get(gb + j) - Math.exp(y.get(yb + j)) * dot
                        : y.get(yb + j) * (gy.get(gb + j) - dot);
                out.set(yb + j, v);
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
        return LayerConfig.of(log ? "LogSoftmax" : "Softmax", name);
    }

    @Override
    public String toString() {
        return name + " (" + config().type() + ")";
    }
}
