package org.streamdl.dnn.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.streamdl.dnn.Parameter;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;

/**
 * Adagrad (Duchi et al., 2011), as {@code torch.optim.Adagrad} without lr decay:
 * s ← s + g²; w ← w − lr·g / (√s + ε).
 */
public final class Adagrad implements Optimizer {
    public static final double DEFAULT_EPSILON = 1e-10;

    private final Allocator stateAllocator;
    private final double epsilon;
    private final double weightDecay;
    private final Map<String, float[]> sums = new LinkedHashMap<>();
    private final Chunk chunk = new Chunk(1);
    private double learningRate;
    private long steps;

    public Adagrad(Allocator stateAllocator, double learningRate) {
        this(stateAllocator, learningRate, 0, DEFAULT_EPSILON);
    }

    public Adagrad(Allocator stateAllocator, double learningRate, double weightDecay, double epsilon) {
        Checks.argument(learningRate > 0, "learningRate must be > 0 but was %s", learningRate);
        Checks.argument(weightDecay >= 0 && epsilon > 0, "weightDecay must be >= 0 and epsilon > 0");
        this.stateAllocator = stateAllocator;
        this.learningRate = learningRate;
        this.weightDecay = weightDecay;
        this.epsilon = epsilon;
    }

    @Override
    public void step(List<Parameter> parameters) {
        float lr = (float) learningRate;
        float wd = (float) weightDecay;
        float eps = (float) epsilon;
        for (Parameter p : parameters) {
            int n = (int) p.value().elementCount();
            float[] all = sums.computeIfAbsent(p.name(), k -> new float[n]);
            chunk.update(p, new float[][] {all}, (w, g, state, len) -> {
                float[] s = state[0];
                for (int i = 0; i < len; i++) {
                    float gi = g[i] + wd * w[i];
                    s[i] += gi * gi;
                    w[i] -= lr * gi / ((float) Math.sqrt(s[i]) + eps);
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
        sums.forEach((name, v) -> out.put(name + ".sum", Chunk.toTensor(v, stateAllocator)));
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
        Chunk.load(state, new String[] {"sum"}, new Map[] {sums});
        this.steps = stepsTaken;
    }
}
