package org.streamdl.dnn.layers;

import java.util.List;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Values;
import org.streamdl.dnn.NamedTensor;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.init.Initializer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Elementwise;

/**
 * Batch normalization (Ioffe and Szegedy, 2015) over channel axis 1 of (N, C), (N, C, L) or (N, C, H,
 * W), as PyTorch's BatchNorm1d/2d: training normalizes with the batch's mean and biased variance and
 * updates running statistics (momentum 0.1, unbiased variance); evaluation uses the running ones.
 * y = γ·(x − μ)/√(σ² + ε) + β.
 */
public final class BatchNorm implements Layer {
    public static final double DEFAULT_EPSILON = 1e-5;
    public static final double DEFAULT_MOMENTUM = 0.1;

    private final String name;
    private final int channels;
    private final double epsilon;
    private final double momentum;
    private final Parameter weight;
    private final Parameter bias;
    private final Tensor runningMean;
    private final Tensor runningVar;
    private Tensor normalized;     // x̂, kept for backward
    private double[] inverseStd;
    private boolean trainingForward;

    public BatchNorm(ParameterFactory params, String name, int channels) {
        this(params, name, channels, DEFAULT_EPSILON, DEFAULT_MOMENTUM);
    }

    public BatchNorm(ParameterFactory params, String name, int channels, double epsilon, double momentum) {
        Checks.argument(channels > 0 && epsilon > 0 && momentum >= 0 && momentum <= 1,
                "%s: needs channels > 0, epsilon > 0, momentum in [0, 1]", name);
        this.name = name;
        this.channels = channels;
        this.epsilon = epsilon;
        this.momentum = momentum;
        this.weight = params.create(name + ".weight", Shape.of(channels), Initializer.constant(1), channels, channels);
        this.bias = params.create(name + ".bias", Shape.of(channels), Initializer.constant(0), channels, channels);
        Allocator state = params.allocator();
        this.runningMean = state.allocate(params.dtype(), channels);
        this.runningVar = state.allocate(params.dtype(), channels);
        Elementwise.fill(runningVar, 1);
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        Checks.argument(x.rank() >= 2 && x.shape().dim(1) == channels,
                "%s: expected input (N, %s, ...) but got %s", this, channels, x.shape());
        Tensor in = x.contiguous(ctx.step());
        int n = (int) x.shape().dim(0);
        int spatial = (int) (x.elementCount() / Math.max(1, (long) n * channels));
        Values a = Values.of(in);
        Tensor y = ctx.step().allocateUninitialized(x.dtype(), x.shape());
        normalized = ctx.step().allocateUninitialized(x.dtype(), x.shape());
        Values out = Values.of(y);
        Values xh = Values.of(normalized);
        Values gamma = Values.of(weight.value());
        Values beta = Values.of(bias.value());
        Values rm = Values.of(runningMean);
        Values rv = Values.of(runningVar);
        inverseStd = new double[channels];
        trainingForward = ctx.training();
        long count = (long) n * spatial;
        for (int c = 0; c < channels; c++) {
            double mean;
            double variance;
            if (ctx.training()) {
                Checks.argument(count > 1, "%s: training needs more than one value per channel but got input %s",
                        this, x.shape());
                double sum = 0;
                for (int i = 0; i < n; i++) {
                    int at = (i * channels + c) * spatial;
                    for (int s = 0; s < spatial; s++) {
                        sum += a.get(at + s);
                    }
                }
                mean = sum / count;
                double squares = 0;
                for (int i = 0; i < n; i++) {
                    int at = (i * channels + c) * spatial;
                    for (int s = 0; s < spatial; s++) {
                        double d = a.get(at + s) - mean;
                        squares += d * d;
                    }
                }
                variance = squares / count;
                rm.set(c, ((1 - momentum) * rm.get(c) + momentum * mean));
                rv.set(c, ((1 - momentum) * rv.get(c) + momentum * squares / (count - 1)));
            } else {
                mean = rm.get(c);
                variance = rv.get(c);
            }
            double inv = 1 / Math.sqrt(variance + epsilon);
            inverseStd[c] = inv;
            double g = gamma.get(c);
            double b = beta.get(c);
            for (int i = 0; i < n; i++) {
                int at = (i * channels + c) * spatial;
                for (int s = 0; s < spatial; s++) {
                    double v = (a.get(at + s) - mean) * inv;
                    xh.set(at + s, v);
                    out.set(at + s, (g * v + b));
                }
            }
        }
        return y;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Checks.state(normalized != null, "%s: backward before forward", this);
        Tensor g = dy.contiguous(ctx.step());
        Shape shape = normalized.shape();
        int n = (int) shape.dim(0);
        int spatial = (int) (shape.elementCount() / Math.max(1, (long) n * channels));
        long count = (long) n * spatial;
        Values d = Values.of(g);
        Values xh = Values.of(normalized);
        Values gamma = Values.of(weight.value());
        Values dGamma = Values.of(weight.grad());
        Values dBeta = Values.of(bias.grad());
        Tensor dx = ctx.step().allocateUninitialized(g.dtype(), shape);
        Values out = Values.of(dx);
        for (int c = 0; c < channels; c++) {
            double sumDy = 0;
            double sumDyXh = 0;
            for (int i = 0; i < n; i++) {
                int at = (i * channels + c) * spatial;
                for (int s = 0; s < spatial; s++) {
                    double gv = d.get(at + s);
                    sumDy += gv;
                    sumDyXh += gv * xh.get(at + s);
                }
            }
            dGamma.set(c, sumDyXh);
            dBeta.set(c, sumDy);
            double scale = gamma.get(c) * inverseStd[c];
            for (int i = 0; i < n; i++) {
                int at = (i * channels + c) * spatial;
                for (int s = 0; s < spatial; s++) {
                    double gv = d.get(at + s);
                    // with batch statistics the mean and variance depend on x too; with running ones they do not
                    double v = trainingForward
                            ? scale * (gv - sumDy / count - xh.get(at + s) * sumDyXh / count)
                            : scale * gv;
                    out.set(at + s, v);
                }
            }
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
    public List<NamedTensor> buffers() {
        return List.of(new NamedTensor(name + ".running_mean", runningMean), new NamedTensor(name + ".running_var", runningVar));
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("BatchNorm", name, "channels", channels, "epsilon", epsilon, "momentum", momentum);
    }

    @Override
    public String toString() {
        return name + " (BatchNorm " + channels + ")";
    }
}
