package org.streamdl.dnn.layers;

import java.nio.FloatBuffer;
import org.streamdl.dnn.Context;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;

/**
 * A layer applying one function to every element: y = f(x), dx = dy · f'(x). Subclasses give f and
 * its derivative (from x and y, whichever is cheaper). Loops run over heap chunks so HotSpot can
 * vectorize them.
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
    abstract void apply(float[] x, float[] y, int n);

    /** dx[i] = dy[i] · f'(x[i]) for i < n, given x and y = f(x); dx may alias dy. */
    abstract void derivative(float[] x, float[] y, float[] dy, float[] dx, int n);

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        Checks.argument(x.dtype() == DType.FLOAT32, "%s: expected float32 input but got %s", this, x.dtype());
        input = x.contiguous(ctx.step());
        output = ctx.step().allocateUninitialized(DType.FLOAT32, x.shape());
        FloatBuffer in = input.buffer().asFloatBuffer();
        FloatBuffer out = output.buffer().asFloatBuffer();
        int n = (int) x.elementCount();
        float[] a = new float[Math.min(CHUNK, Math.max(n, 1))];
        float[] b = new float[a.length];
        for (int from = 0; from < n; from += CHUNK) {
            int len = Math.min(CHUNK, n - from);
            in.get((int) input.offset() + from, a, 0, len);
            apply(a, b, len);
            out.put(from, b, 0, len);
        }
        return output;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Checks.state(output != null, "%s: backward before forward", this);
        Tensor g = dy.contiguous(ctx.step());
        Tensor dx = ctx.step().allocateUninitialized(DType.FLOAT32, g.shape());
        FloatBuffer xs = input.buffer().asFloatBuffer();
        FloatBuffer ys = output.buffer().asFloatBuffer();
        FloatBuffer gs = g.buffer().asFloatBuffer();
        FloatBuffer out = dx.buffer().asFloatBuffer();
        int n = (int) g.elementCount();
        float[] x = new float[Math.min(CHUNK, Math.max(n, 1))];
        float[] y = new float[x.length];
        float[] d = new float[x.length];
        for (int from = 0; from < n; from += CHUNK) {
            int len = Math.min(CHUNK, n - from);
            xs.get((int) input.offset() + from, x, 0, len);
            ys.get(from, y, 0, len);
            gs.get((int) g.offset() + from, d, 0, len);
            derivative(x, y, d, d, len);
            out.put(from, d, 0, len);
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
