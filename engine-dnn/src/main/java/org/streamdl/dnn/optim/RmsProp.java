package org.streamdl.dnn.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.streamdl.dnn.Parameter;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;

/**
 * RMSprop (Tieleman and Hinton, 2012), as {@code torch.optim.RMSprop} (not centered):
 * s ← α·s + (1 − α)·g²; b ← μ·b + g / (√s + ε); w ← w − lr·b (b = g / (√s + ε) without momentum).
 */
public final class RmsProp implements Optimizer {
    public static final double DEFAULT_ALPHA = 0.99;
    public static final double DEFAULT_EPSILON = 1e-8;

    private final Allocator stateAllocator;
    private final double alpha;
    private final double epsilon;
    private final double momentum;
    private final Map<String, float[]> squares = new LinkedHashMap<>();
    private final Map<String, float[]> buffers = new LinkedHashMap<>();
    private final Chunk chunk = new Chunk(2);
    private double learningRate;
    private long steps;

    public RmsProp(Allocator stateAllocator, double learningRate) {
        this(stateAllocator, learningRate, DEFAULT_ALPHA, DEFAULT_EPSILON, 0);
    }

    public RmsProp(Allocator stateAllocator, double learningRate, double alpha, double epsilon, double momentum) {
        Checks.argument(learningRate > 0, "learningRate must be > 0 but was %s", learningRate);
        Checks.argument(alpha >= 0 && alpha < 1, "alpha must be in [0, 1) but was %s", alpha);
        Checks.argument(epsilon > 0 && momentum >= 0 && momentum < 1, "epsilon must be > 0 and momentum in [0, 1)");
        this.stateAllocator = stateAllocator;
        this.learningRate = learningRate;
        this.alpha = alpha;
        this.epsilon = epsilon;
        this.momentum = momentum;
    }

    @Override
    public void step(List<Parameter> parameters) {
        float lr = (float) learningRate;
        float a = (float) alpha;
        float eps = (float) epsilon;
        float mu = (float) momentum;
        for (Parameter p : parameters) {
            int n = (int) p.value().elementCount();
            float[] sAll = squares.computeIfAbsent(p.name(), k -> new float[n]);
            float[] bAll = buffers.computeIfAbsent(p.name(), k -> new float[n]);   // without momentum, scratch
            chunk.update(p, new float[][] {sAll, bAll}, (w, g, state, len) -> {
                float[] s = state[0];
                float[] b = state[1];
                for (int i = 0; i < len; i++) {
                    s[i] = a * s[i] + (1 - a) * g[i] * g[i];
                    b[i] = mu * b[i] + g[i] / ((float) Math.sqrt(s[i]) + eps);
                    w[i] -= lr * b[i];
                }
            });
        }
        steps++;
    }

    @Override
    public double learningRate() {
        return learningRate;
    }

    @Override
    public void setLearningRate(double lr) {
        Checks.argument(lr > 0, "learningRate must be > 0 but was %s", lr);
        this.learningRate = lr;
    }

    @Override
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        squares.forEach((name, v) -> out.put(name + ".square_avg", Chunk.toTensor(v, stateAllocator)));
        if (momentum > 0) {
            buffers.forEach((name, v) -> out.put(name + ".momentum_buffer", Chunk.toTensor(v, stateAllocator)));
        }
        return out;
    }

    @Override
    public long steps() {
        return steps;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void loadState(Map<String, Tensor> state, long stepsTaken) {
        Checks.argument(stepsTaken >= 0, "steps must be >= 0 but was %s", stepsTaken);
        Chunk.load(state, new String[] {"square_avg", "momentum_buffer"}, new Map[] {squares, buffers});
        this.steps = stepsTaken;
    }
}
