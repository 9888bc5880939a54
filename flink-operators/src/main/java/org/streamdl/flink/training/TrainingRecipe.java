package org.streamdl.flink.training;

import java.io.Serializable;
import java.util.Objects;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.losses.Loss;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.optim.LearningRateSchedule;
import org.streamdl.dnn.optim.Optimizer;
import org.streamdl.tensor.Allocator;

/**
 * What to train, as factories that every worker and shard calls for itself: the model (with a fixed
 * seed, so every subtask starts from the same weights without sending them), the loss and the
 * optimizer. The factories are shipped to the cluster as serializable lambdas; they hold code, never
 * a model or data.
 *
 * <pre>{@code
 * TrainingRecipe recipe = TrainingRecipe.of("lenet5", kernels -> Models.lenet5(42, kernels),
 *         SoftmaxCrossEntropy::new, state -> new Sgd(state, 0.05, 0.9));
 * }</pre>
 */
public final class TrainingRecipe implements Serializable {
    private static final long serialVersionUID = 1L;

    @FunctionalInterface
    public interface ModelFactory extends Serializable {
        /** The same weights on every call: the seed is part of the factory. */
        Model create(Kernels kernels);
    }

    @FunctionalInterface
    public interface LossFactory extends Serializable {
        Loss create();
    }

    @FunctionalInterface
    public interface OptimizerFactory extends Serializable {
        /** An optimizer whose state tensors live in {@code stateAllocator}. */
        Optimizer create(Allocator stateAllocator);
    }

    @FunctionalInterface
    public interface Schedule extends LearningRateSchedule, Serializable {}

    private final String modelName;
    private final ModelFactory model;
    private final LossFactory loss;
    private final OptimizerFactory optimizer;
    private final Schedule schedule;

    private TrainingRecipe(String modelName, ModelFactory model, LossFactory loss, OptimizerFactory optimizer,
                           Schedule schedule) {
        if (modelName == null || modelName.isBlank()) {
            throw new IllegalArgumentException("a training recipe needs a model name (it names the snapshots)");
        }
        this.modelName = modelName;
        this.model = Objects.requireNonNull(model, "model factory");
        this.loss = Objects.requireNonNull(loss, "loss factory");
        this.optimizer = Objects.requireNonNull(optimizer, "optimizer factory");
        this.schedule = schedule;
    }

    public static TrainingRecipe of(String modelName, ModelFactory model, LossFactory loss, OptimizerFactory optimizer) {
        return new TrainingRecipe(modelName, model, loss, optimizer, null);
    }

    /** The learning rate as a function of the optimizer's step count, applied by the shards before each update. */
    public TrainingRecipe withSchedule(Schedule learningRate) {
        return new TrainingRecipe(modelName, model, loss, optimizer, Objects.requireNonNull(learningRate));
    }

    public String modelName() {
        return modelName;
    }

    public Model createModel(Kernels kernels) {
        return model.create(kernels);
    }

    public Loss createLoss() {
        return loss.create();
    }

    public Optimizer createOptimizer(Allocator stateAllocator) {
        return optimizer.create(stateAllocator);
    }

    /** The schedule, or null when the optimizer's own learning rate stays. */
    Schedule schedule() {
        return schedule;
    }
}
