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
 * Adam (Kingma and Ba, 2015) with bias correction, as {@code torch.optim.Adam}; with
 * {@code decoupled} weight decay it is AdamW (Loshchilov and Hutter, 2019), which shrinks the weights
 * directly instead of adding λw to the gradient.
 */
public final class Adam implements Optimizer {
    public static final double DEFAULT_BETA1 = 0.9;
    public static final double DEFAULT_BETA2 = 0.999;
    public static final double DEFAULT_EPSILON = 1e-8;

    private final Allocator stateAllocator;
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private final boolean decoupled;
    private final Map<String, Tensor> moments = new LinkedHashMap<>();
    private double learningRate;
    private long steps;

    public Adam(Allocator stateAllocator, double learningRate) {
        this(stateAllocator, learningRate, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPSILON, 0, false);
    }

    /** AdamW with torch's default weight decay 0.01 unless given. */
    public static Adam adamW(Allocator stateAllocator, double learningRate, double weightDecay) {
        return new Adam(stateAllocator, learningRate, DEFAULT_BETA1, DEFAULT_BETA2, DEFAULT_EPSILON, weightDecay, true);
    }

    public Adam(Allocator stateAllocator, double learningRate, double beta1, double beta2, double epsilon,
                double weightDecay, boolean decoupled) {
        Checks.argument(learningRate > 0, "learningRate must be > 0 but was %s", learningRate);
        Checks.argument(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1,
                "betas must be in [0, 1) but were %s and %s", beta1, beta2);
        Checks.argument(epsilon > 0, "epsilon must be > 0 but was %s", epsilon);
        Checks.argument(weightDecay >= 0, "weightDecay must be >= 0 but was %s", weightDecay);
        this.stateAllocator = stateAllocator;
        this.learningRate = learningRate;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
    }

    @Override
    public void step(List<Parameter> parameters) {
        steps++;
        float b1 = (float) beta1;
        float b2 = (float) beta2;
        double correction1 = 1 - Math.pow(beta1, steps);
        double correction2 = 1 - Math.pow(beta2, steps);
        float stepSize = (float) (learningRate / correction1);
        float sqrtCorrection2 = (float) Math.sqrt(correction2);
        float eps = (float) epsilon;
        float wd = (float) weightDecay;
        float shrink = decoupled ? (float) (1 - learningRate * weightDecay) : 1f;
        for (Parameter p : parameters) {
            FloatBuffer w = p.value().buffer().asFloatBuffer();
            FloatBuffer g = p.grad().buffer().asFloatBuffer();
            FloatBuffer m = state(p, "exp_avg").buffer().asFloatBuffer();
            FloatBuffer v = state(p, "exp_avg_sq").buffer().asFloatBuffer();
            int n = (int) p.value().elementCount();
            for (int i = 0; i < n; i++) {
                float wi = w.get(i) * shrink;
                float grad = decoupled ? g.get(i) : g.get(i) + wd * wi;
                float mi = b1 * m.get(i) + (1 - b1) * grad;
                float vi = b2 * v.get(i) + (1 - b2) * grad * grad;
                m.put(i, mi);
                v.put(i, vi);
                w.put(i, wi - stepSize * mi / ((float) Math.sqrt(vi) / sqrtCorrection2 + eps));
            }
        }
    }

    private Tensor state(Parameter p, String kind) {
        return moments.computeIfAbsent(p.name() + "." + kind, k -> stateAllocator.allocate(DType.FLOAT32, p.value().shape()));
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
        return Map.copyOf(moments);
    }

    @Override
    public long steps() {
        return steps;
    }
}
