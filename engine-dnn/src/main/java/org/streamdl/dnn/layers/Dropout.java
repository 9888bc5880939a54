package org.streamdl.dnn.layers;

import org.streamdl.dnn.Context;
import org.streamdl.dnn.Values;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;

/**
 * Inverted dropout (Srivastava et al., 2014): in training each element is zeroed with probability
 * p and the rest scaled by 1/(1 − p), drawn from the context's seeded generator; in evaluation it is
 * the identity.
 */
public final class Dropout implements Layer {
    private final String name;
    private final double probability;
    private double[] mask;     // scale per element of the last training forward, 0 or 1/(1-p)

    public Dropout(String name, double probability) {
        Checks.argument(probability >= 0 && probability < 1, "%s: dropout probability must be in [0, 1) but was %s",
                name, probability);
        this.name = name;
        this.probability = probability;
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        if (!ctx.training() || probability == 0) {
            mask = null;
            return x;
        }
        Tensor in = x.contiguous(ctx.step());
        Tensor y = ctx.step().allocateUninitialized(x.dtype(), x.shape());
        int n = (int) x.elementCount();
        mask = new double[n];
        double keep = 1 / (1 - probability);
        Values a = Values.of(in);
        Values out = Values.of(y);
        for (int i = 0; i < n; i++) {
            mask[i] = ctx.rng().nextDouble() < probability ? 0 : keep;
            out.set(i, a.get(i) * mask[i]);
        }
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        if (mask == null) {
            return dy;
        }
        Tensor g = dy.contiguous(ctx.step());
        Tensor dx = ctx.step().allocateUninitialized(g.dtype(), g.shape());
        Values a = Values.of(g);
        Values out = Values.of(dx);
        for (int i = 0; i < mask.length; i++) {
            out.set(i, a.get(i) * mask[i]);
        }
        return dx;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("Dropout", name, "p", probability);
    }
}
