package org.streamdl.flink.training;

import org.apache.flink.streaming.api.operators.AbstractStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.streamdl.flink.connector.records.Sample;

/** Builds the worker with its task's mailbox executor, which it yields to while waiting for weights. */
final class TrainingWorkerOperatorFactory extends AbstractStreamOperatorFactory<GradientSlice>
        implements OneInputStreamOperatorFactory<Sample, GradientSlice> {
    private static final long serialVersionUID = 1L;

    private final TrainingRecipe recipe;
    private final LoopConfig config;

    TrainingWorkerOperatorFactory(TrainingRecipe recipe, LoopConfig config) {
        this.recipe = recipe;
        this.config = config;
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T extends StreamOperator<GradientSlice>> T createStreamOperator(StreamOperatorParameters<GradientSlice> parameters) {
        return (T) new TrainingWorkerOperator(parameters, recipe, config);
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Class<? extends StreamOperator> getStreamOperatorClass(ClassLoader classLoader) {
        return TrainingWorkerOperator.class;
    }
}
