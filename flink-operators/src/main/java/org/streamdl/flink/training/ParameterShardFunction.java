package org.streamdl.flink.training;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.optim.Optimizer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * One parameter slice per key: its weights and optimizer state live in keyed state. For each step
 * it sums the contributions of all workers, and once every worker has contributed it averages by
 * the total sample count (an idle worker contributes zero samples), applies the optimizer and emits
 * the new slice, which the job broadcasts to every worker. Contributions for later steps (a worker
 * running ahead under bounded staleness) wait in state until their step is next.
 */
final class ParameterShardFunction extends KeyedProcessFunction<Integer, GradientSlice, WeightSlice> {
    private static final long serialVersionUID = 1L;
    private static final int VERSION = 0;
    private static final int SAMPLES_APPLIED = 1;
    private static final int OPTIMIZER_STEPS = 2;
    private static final int PENDING_SAMPLES = 0;
    private static final int PENDING_FINISHED = 1;
    private static final int PENDING_MASK = 2;

    private final TrainingRecipe recipe;
    private final int workers;
    private final int slices;

    private transient ParameterLayout layout;
    private transient float[][] initialWeights;
    private transient List<String> parameterNames;
    private transient Allocator memory;
    private transient ValueState<float[]> weights;
    private transient ValueState<long[]> progress;
    private transient MapState<String, float[]> optimizerState;
    private transient MapState<Long, float[]> pendingSums;
    private transient MapState<Long, long[]> pendingCounts;
    private transient MapState<Long, Double> pendingLoss;

    ParameterShardFunction(TrainingRecipe recipe, int workers, int slices) {
        this.recipe = recipe;
        this.workers = workers;
        this.slices = slices;
    }

    @Override
    public void open(OpenContext context) {
        try (Kernels kernels = Kernels.create(1, Kernels.Preference.REFERENCE);
             Model model = recipe.createModel(kernels)) {
            layout = new ParameterLayout(model.parameters(), slices);
            initialWeights = new float[slices][];
            for (int s = 0; s < slices; s++) {
                initialWeights[s] = layout.gatherWeights(model.parameters(), s);
            }
            parameterNames = new ArrayList<>();
            for (Parameter p : model.parameters()) {
                parameterNames.add(p.name());
            }
        }
        memory = Allocator.root("parameter-shard", Long.MAX_VALUE / 4);
        weights = getRuntimeContext().getState(new ValueStateDescriptor<>("weights", PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO));
        progress = getRuntimeContext().getState(new ValueStateDescriptor<>("progress", PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        optimizerState = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("optimizer-state", Types.STRING, PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO));
        pendingSums = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("pending-gradient-sums", Types.LONG, PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO));
        pendingCounts = getRuntimeContext().getMapState(
                new MapStateDescriptor<>("pending-counts", Types.LONG, PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        pendingLoss = getRuntimeContext().getMapState(new MapStateDescriptor<>("pending-loss", Types.LONG, Types.DOUBLE));
    }

    @Override
    public void close() {
        if (memory != null) {
            memory.close();
        }
    }

    @Override
    public void processElement(GradientSlice g, Context ctx, Collector<WeightSlice> out) throws Exception {
        int slice = g.sliceId();
        if (slice >= slices || g.worker() >= workers || g.gradientSum().length != layout.sliceLength(slice)) {
            throw new IllegalArgumentException(g + " does not fit this loop: " + slices + " slices, " + workers
                    + " workers, slice length " + (slice < slices ? layout.sliceLength(slice) : -1) + ", got "
                    + g.gradientSum().length + " values");
        }
        long[] p = progress();
        if (g.step() <= p[VERSION]) {
            throw new IllegalStateException(g + " arrived after step " + g.step()
                    + " was applied: a contribution was delivered twice");
        }
        long[] counts = pendingCounts.get(g.step());
        float[] sum = pendingSums.get(g.step());
        if (counts == null) {
            counts = new long[PENDING_MASK + (workers + 63) / 64];
            sum = new float[g.gradientSum().length];
        }
        long bit = 1L << (g.worker() % 64);
        int word = PENDING_MASK + g.worker() / 64;
        if ((counts[word] & bit) != 0) {
            throw new IllegalStateException("worker " + g.worker() + " contributed twice to step " + g.step()
                    + " of slice " + slice);
        }
        counts[word] |= bit;
        counts[PENDING_SAMPLES] += g.sampleCount();
        counts[PENDING_FINISHED] += g.finished() ? 1 : 0;
        float[] add = g.gradientSum();
        for (int i = 0; i < sum.length; i++) {
            sum[i] += add[i];
        }
        Double loss = pendingLoss.get(g.step());
        pendingCounts.put(g.step(), counts);
        pendingSums.put(g.step(), sum);
        pendingLoss.put(g.step(), (loss == null ? 0 : loss) + g.lossSum());
        while (complete(p[VERSION] + 1)) {
            out.collect(apply(slice, p, p[VERSION] + 1));
        }
    }

    private long[] progress() throws Exception {
        long[] p = progress.value();
        return p == null ? new long[3] : p;
    }

    private boolean complete(long step) throws Exception {
        long[] counts = pendingCounts.get(step);
        if (counts == null) {
            return false;
        }
        int contributors = 0;
        for (int w = PENDING_MASK; w < counts.length; w++) {
            contributors += Long.bitCount(counts[w]);
        }
        return contributors == workers;
    }

    /** Averages step {@code step}'s contributions, updates the slice and advances {@code p} in place. */
    private WeightSlice apply(int slice, long[] p, long step) throws Exception {
        long[] counts = pendingCounts.get(step);
        float[] sum = pendingSums.get(step);
        double lossSum = pendingLoss.get(step);
        long samples = counts[PENDING_SAMPLES];
        float[] w = weights.value();
        if (w == null) {
            w = initialWeights[slice].clone();
        }
        if (samples > 0) {
            w = update(slice, w, sum, samples, p);
        }
        p[VERSION] = step;
        p[SAMPLES_APPLIED] += samples;
        weights.update(w);
        progress.update(p);
        pendingCounts.remove(step);
        pendingSums.remove(step);
        pendingLoss.remove(step);
        boolean last = counts[PENDING_FINISHED] == workers;
        return new WeightSlice(step, slice, p[SAMPLES_APPLIED], samples > 0 ? lossSum / samples : Double.NaN, last,
                w.clone());
    }

    /** One optimizer step over the pieces of this slice, with its state loaded from and saved to keyed state. */
    private float[] update(int slice, float[] w, float[] gradientSum, long samples, long[] p) throws Exception {
        try (Allocator step = memory.newChild("shard-update", Long.MAX_VALUE / 8)) {
            List<Parameter> pieces = new ArrayList<>();
            float inverse = (float) (1.0 / samples);
            for (ParameterLayout.Piece piece : layout.pieces(slice)) {
                Tensor value = tensor(w, piece.fromInSlice(), piece.length(), step);
                Tensor grad = tensor(gradientSum, piece.fromInSlice(), piece.length(), step);
                FloatBuffer g = grad.buffer().asFloatBuffer();
                for (int i = 0; i < piece.length(); i++) {
                    g.put(i, g.get(i) * inverse);
                }
                pieces.add(new Parameter(piece.parameter(), value, grad));
            }
            Optimizer optimizer = recipe.createOptimizer(step);
            Map<String, Tensor> state = new HashMap<>();
            for (Map.Entry<String, float[]> e : optimizerState.entries()) {
                state.put(e.getKey(), tensor(e.getValue(), 0, e.getValue().length, step));
            }
            optimizer.loadState(state, p[OPTIMIZER_STEPS]);
            if (recipe.schedule() != null) {
                optimizer.setLearningRate(recipe.schedule().at(p[OPTIMIZER_STEPS]));
            }
            optimizer.step(pieces);
            p[OPTIMIZER_STEPS] = optimizer.steps();
            float[] updated = new float[w.length];
            List<ParameterLayout.Piece> layoutPieces = layout.pieces(slice);
            for (int i = 0; i < pieces.size(); i++) {
                ParameterLayout.Piece piece = layoutPieces.get(i);
                pieces.get(i).value().buffer().asFloatBuffer().get(0, updated, piece.fromInSlice(), piece.length());
            }
            for (Map.Entry<String, Tensor> e : optimizer.state().entrySet()) {
                Tensor t = e.getValue();
                float[] values = new float[(int) t.elementCount()];
                t.buffer().asFloatBuffer().get((int) t.offset(), values);
                optimizerState.put(e.getKey(), values);
            }
            return updated;
        }
    }

    private static Tensor tensor(float[] values, int from, int length, Allocator allocator) {
        Tensor t = allocator.allocateUninitialized(DType.FLOAT32, Shape.of(length));
        t.buffer().asFloatBuffer().put(0, values, from, length);
        return t;
    }
}
