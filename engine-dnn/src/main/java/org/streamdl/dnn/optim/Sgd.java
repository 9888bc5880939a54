package org.streamdl.dnn.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.streamdl.dnn.Parameter;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;

/**
 * SGD with momentum, the update of {@code torch.optim.SGD} without dampening: g ← g + λw (weight
 * decay); v ← μv + g (v starts at g); w ← w − lr·v, or with Nesterov w ← w − lr·(g + μv)
 * (Sutskever et al., 2013). Runs over heap chunks like {@link Adam}.
 */
public final class Sgd implements Optimizer {
    public static final double DEFAULT_MOMENTUM = 0;
    public static final double DEFAULT_WEIGHT_DECAY = 0;

    private final Allocator stateAllocator;
    private final double momentum;
    private final double weightDecay;
    private final boolean nesterov;
    private final Map<String, float[]> velocity = new LinkedHashMap<>();
    private final Chunk chunk = new Chunk(1);
    private double learningRate;
    private long steps;

    public Sgd(Allocator stateAllocator, double learningRate, double momentum) {
        this(stateAllocator, learningRate, momentum, DEFAULT_WEIGHT_DECAY, false);
    }

    public Sgd(Allocator stateAllocator, double learningRate, double momentum, double weightDecay, boolean nesterov) {
        Checks.argument(learningRate > 0, "learningRate must be > 0 but was %s", learningRate);
        Checks.argument(momentum >= 0 && momentum < 1, "momentum must be in [0, 1) but was %s", momentum);
        Checks.argument(weightDecay >= 0, "weightDecay must be >= 0 but was %s", weightDecay);
        Checks.argument(!nesterov || momentum > 0, "Nesterov momentum needs momentum > 0");
        this.stateAllocator = stateAllocator;
        this.learningRate = learningRate;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
    }

    @Override
    public void step(List<Parameter> parameters) {
        float lr = (float) learningRate;
        float mu = (float) momentum;
        float wd = (float) weightDecay;
        for (Parameter p : parameters) {
            int n = (int) p.value().elementCount();
            if (momentum == 0) {
                chunk.update(p, new float[0][], (w, g, state, len) -> {
                    for (int i = 0; i < len; i++) {
                        w[i] -= lr * (g[i] + wd * w[i]);
                    }
                });
                continue;
            }
            float keep = velocity.containsKey(p.name()) ? mu : 0f;   // torch starts the momentum buffer at g
            float[] vAll = velocity.computeIfAbsent(p.name(), k -> new float[n]);
            chunk.update(p, new float[][] {vAll}, (w, g, state, len) -> {
                float[] v = state[0];
                for (int i = 0; i < len; i++) {
                    float gi = g[i] + wd * w[i];
                    float vi = keep * v[i] + gi;
                    v[i] = vi;
                    w[i] -= lr * (nesterov ? gi + mu * vi : vi);
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

    /** Copies of the momentum buffers, {@code conv1.weight.momentum_buffer} (torch's name). */
    @Override
    public Map<String, Tensor> state() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, float[]> e : velocity.entrySet()) {
            out.put(e.getKey() + ".momentum_buffer", Chunk.toTensor(e.getValue(), stateAllocator));
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
        Chunk.load(state, new String[] {"momentum_buffer"}, new Map[] {velocity});
        this.steps = stepsTaken;
    }
}
