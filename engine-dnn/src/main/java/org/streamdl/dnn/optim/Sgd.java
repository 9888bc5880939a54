package org.streamdl.dnn.optim;

import java.nio.FloatBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.streamdl.dnn.Parameter;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;

/**
 * SGD with momentum, the update of {@code torch.optim.SGD} without dampening: g ← g + λw (weight
 * decay); v ← μv + g; w ← w − lr·v, or with Nesterov w ← w − lr·(g + μv) (Sutskever et al., 2013).
 */
public final class Sgd implements Optimizer {
    public static final double DEFAULT_MOMENTUM = 0;
    public static final double DEFAULT_WEIGHT_DECAY = 0;

    private final Allocator stateAllocator;
    private final double momentum;
    private final double weightDecay;
    private final boolean nesterov;
    private final Map<String, Tensor> velocity = new LinkedHashMap<>();
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
            FloatBuffer w = p.value().buffer().asFloatBuffer();
            FloatBuffer g = p.grad().buffer().asFloatBuffer();
            int n = (int) p.value().elementCount();
            if (momentum == 0) {
                for (int i = 0; i < n; i++) {
                    float grad = g.get(i) + wd * w.get(i);
                    w.put(i, w.get(i) - lr * grad);
                }
                continue;
            }
            Tensor vt = velocity.computeIfAbsent(p.name() + ".momentum", k -> stateAllocator.allocate(DType.FLOAT32, p.value().shape()));
            FloatBuffer v = vt.buffer().asFloatBuffer();
            boolean first = steps == 0;
            for (int i = 0; i < n; i++) {
                float grad = g.get(i) + wd * w.get(i);
                float vel = first ? grad : mu * v.get(i) + grad;   // torch starts the buffer at g
                v.put(i, vel);
                w.put(i, w.get(i) - lr * (nesterov ? grad + mu * vel : vel));
            }
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
        return Map.copyOf(velocity);
    }

    @Override
    public long steps() {
        return steps;
    }
}
