package org.streamdl.dnn.layers;

import org.streamdl.dnn.Context;
import org.streamdl.dnn.Values;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;

/**
 * A layer applying one function to every element: y = f(x), dx = dy · f'(x). Subclasses give f and
 * its derivative (from x and y, whichever is cheaper). Loops run over heap chunks of doubles
 * (float32 tensors are widened on the way in), so one loop serves both precisions.
 */
abstract class PointwiseLayer implements Layer {
    private static final int CHUNK = 4096;
    private final String name;
    private Tensor input;
    private Tensor output;

    PointwiseLayer(String name) {
        this.name = name;
    }

    /** y[i] = f(x[i]) for i < n. */
    abstract void apply(double[] x, double[] y, int n);

    /** dx[i] = dy[i] · f'(x[i]) for i < n, given x and y = f(x); dx may alias dy. */
    abstract void derivative(double[] x, double[] y, double[] dy, double[] dx, int n);

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        Values.checkFloating(this, x);
        input = x.contiguous(ctx.step());
        output = ctx.step().allocateUninitialized(x.dtype(), x.shape());
        Values in = Values.of(input);
        Values out = Values.of(output);
        int n = (int) x.elementCount();
        double[] a = new double[Math.min(CHUNK, Math.max(n, 1))];
        double[] b = new double[a.length];
        for (int from = 0; from < n; from += CHUNK) {
            int len = Math.min(CHUNK, n - from);
            in.get(from, a, len);
            apply(a, b, len);
            out.set(from, b, len);
        }
        return output;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Checks.state(output != null, "%s: backward before forward", this);
        Tensor g = dy.contiguous(ctx.step());
        Tensor dx = ctx.step().allocateUninitialized(output.dtype(), g.shape());
        Values xs = Values.of(input);
        Values ys = Values.of(output);
        Values gs = Values.of(g);
        Values out = Values.of(dx);
        int n = (int) g.elementCount();
        double[] x = new double[Math.min(CHUNK, Math.max(n, 1))];
        double[] y = new double[x.length];
        double[] d = new double[x.length];
        for (int from = 0; from < n; from += CHUNK) {
            int len = Math.min(CHUNK, n - from);
            xs.get(from, x, len);
            ys.get(from, y, len);
            gs.get(from, d, len);
            derivative(x, y, d, d, len);
            out.set(from, d, len);
        }
        return dx;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return name + " (" + config().type() + ")";
    }
}
