package org.streamdl.dnn.layers;

import java.util.List;
import org.streamdl.dnn.Values;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.init.Initializer;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * Layer normalization (Ba et al., 2016) over the last axis of size {@code features}, with learned
 * γ and β, as PyTorch's LayerNorm(features): y = γ·(x − μ)/√(σ² + ε) + β per row.
 */
public final class LayerNorm implements Layer {
    private final String name;
    private final int features;
    private final double epsilon;
    private final Parameter weight;
    private final Parameter bias;
    private Tensor normalized;
    private double[] inverseStd;

    public LayerNorm(ParameterFactory params, String name, int features) {
        this(params, name, features, 1e-5);
    }

    public LayerNorm(ParameterFactory params, String name, int features, double epsilon) {
        Checks.argument(features > 0 && epsilon > 0, "%s: needs features > 0 and epsilon > 0", name);
        this.name = name;
        this.features = features;
        this.epsilon = epsilon;
        this.weight = params.create(name + ".weight", Shape.of(features), Initializer.constant(1), features, features);
        this.bias = params.create(name + ".bias", Shape.of(features), Initializer.constant(0), features, features);
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        Checks.argument(x.rank() >= 1 && x.shape().dim(-1) == features,
                "%s: expected input (..., %s) but got %s", this, features, x.shape());
        Tensor in = x.contiguous(ctx.step());
        int rows = (int) (x.elementCount() / features);
        Values a = Values.of(in);
        Tensor y = ctx.step().allocateUninitialized(x.dtype(), x.shape());
        normalized = ctx.step().allocateUninitialized(x.dtype(), x.shape());
        Values out = Values.of(y);
        Values xh = Values.of(normalized);
        Values gamma = Values.of(weight.value());
        Values beta = Values.of(bias.value());
        inverseStd = new double[rows];
        for (int r = 0; r < rows; r++) {
            int at = r * features;
            double sum = 0;
            for (int j = 0; j < features; j++) {
                sum += a.get(at + j);
            }
            double mean = sum / features;
            double squares = 0;
            for (int j = 0; j < features; j++) {
                double d = a.get(at + j) - mean;
                squares += d * d;
            }
            double inv = 1 / Math.sqrt(squares / features + epsilon);
            inverseStd[r] = inv;
            for (int j = 0; j < features; j++) {
                double v = (a.get(at + j) - mean) * inv;
                xh.set(at + j, v);
                out.set(at + j, (gamma.get(j) * v + beta.get(j)));
            }
        }
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Checks.state(normalized != null, "%s: backward before forward", this);
        Tensor g = dy.contiguous(ctx.step());
        int rows = inverseStd.length;
        Values d = Values.of(g);
        Values xh = Values.of(normalized);
        Values gamma = Values.of(weight.value());
        double[] dGamma = new double[features];
        double[] dBeta = new double[features];
        Tensor dx = ctx.step().allocateUninitialized(normalized.dtype(), normalized.shape());
        Values out = Values.of(dx);
        for (int r = 0; r < rows; r++) {
            int at = r * features;
            double sumG = 0;
            double sumGXh = 0;
            for (int j = 0; j < features; j++) {
                double gv = d.get(at + j);
                double gh = gv * gamma.get(j);          // gradient w.r.t. x̂
                dGamma[j] += gv * xh.get(at + j);
                dBeta[j] += gv;
                sumG += gh;
                sumGXh += gh * xh.get(at + j);
            }
            for (int j = 0; j < features; j++) {
                double gh = d.get(at + j) * gamma.get(j);
                out.set(at + j, (inverseStd[r] * (gh - sumG / features - xh.get(at + j) * sumGXh / features)));
            }
        }
        Values wg = Values.of(weight.grad());
        Values bg = Values.of(bias.grad());
        for (int j = 0; j < features; j++) {
            wg.set(j, dGamma[j]);
            bg.set(j, dBeta[j]);
        }
        return dx;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Parameter> parameters() {
        return List.of(weight, bias);
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("LayerNorm", name, "features", features, "epsilon", epsilon);
    }

    @Override
    public String toString() {
        return name + " (LayerNorm " + features + ")";
    }
}
