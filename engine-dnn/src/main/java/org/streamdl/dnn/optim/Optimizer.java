package org.streamdl.dnn.optim;

import java.util.List;
import java.util.Map;
import org.streamdl.dnn.Parameter;
import org.streamdl.tensor.Tensor;

/**
 * Updates parameters from their gradients. State (momentum, moment estimates) is kept per
 * parameter name, so it can be saved to a model file, a Flink checkpoint or a parameter shard and
 * restored.
 */
public interface Optimizer {

    /** One update of every parameter from its current gradient. */
    void step(List<Parameter> parameters);

    /** The learning rate of the next step (schedules change it between steps). */
    double learningRate();

    void setLearningRate(double learningRate);

    /** State tensors by {@code parameterName + "." + stateName}, e.g. {@code fc1.weight.momentum}. */
    Map<String, Tensor> state();

    /** Steps taken so far. */
    long steps();

    /**
     * Restores what {@link #state()} exported and the step count, to resume training exactly (from a
     * checkpoint, a Flink restore or a parameter shard).
     */
    void loadState(Map<String, Tensor> state, long steps);
}
