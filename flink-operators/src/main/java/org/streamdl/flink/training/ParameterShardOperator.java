package org.streamdl.flink.training;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.optim.Optimizer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/**
 * The parameter shards: one slice of the flat parameter vector per key (slice id). For each step
 * it sums the contributions of all workers; once every worker has contributed it averages by the
 * total sample count (an idle worker contributes zero samples), applies the optimizer and emits the
 * new slice, which the job broadcasts to every worker. Contributions for later steps (a worker
 * running ahead under bounded staleness) wait until their step is next.
 *
 * <p>Between checkpoints a slice lives in tensors owned by this operator, with its optimizer
 * instance, so an update touches each value once. Before every snapshot each slice is written to
 * keyed state (weights, optimizer state by parameter name, steps, pending contributions), which is
 * what a restore, or a rescaled job, reads back.
 */
final class ParameterShardOperator extends AbstractStreamOperator<WeightSlice>
        implements OneInputStreamOperator<GradientSlice, WeightSlice> {
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
    private final int[] sliceKeys;

    private transient ParameterLayout layout;
    private transient float[][] initialWeights;
    private transient Allocator memory;
    private transient Map<Integer, Slice> live;
    private transient ValueState<float[]> weightsState;
    private transient ValueState<long[]> progressState;
    private transient MapState<String, float[]> optimizerState;
    private transient MapState<Long, float[]> pendingSumsState;
    private transient MapState<Long, long[]> pendingCountsState;
    private transient MapState<Long, Double> pendingLossState;

    /** @param sliceKeys the key of each slice, as the job's key selector assigns them */
    ParameterShardOperator(TrainingRecipe recipe, int workers, int[] sliceKeys) {
        this.recipe = recipe;
        this.workers = workers;
        this.slices = sliceKeys.length;
        this.sliceKeys = sliceKeys.clone();
    }

    /** Contributions to one step of one slice, summed as they arrive. */
    private static final class Pending {
        final float[] sum;
        final long[] counts;
        double lossSum;

        Pending(float[] sum, long[] counts, double lossSum) {
            this.sum = sum;
            this.counts = counts;
            this.lossSum = lossSum;
        }
    }

    /** One slice between checkpoints: its weights in tensors, its optimizer, its pending steps. */
    private final class Slice {
        final int id;
        final List<Parameter> pieces = new ArrayList<>();
        final List<FloatBuffer> values = new ArrayList<>();
        final List<FloatBuffer> grads = new ArrayList<>();
        final Optimizer optimizer;
        final long[] progress;
        final TreeMap<Long, Pending> pending = new TreeMap<>();

        Slice(int id, float[] weights, long[] progress, Map<String, float[]> optimizerValues) {
            this.id = id;
            this.progress = progress;
            for (ParameterLayout.Piece piece : layout.pieces(id)) {
                Tensor value = memory.allocateUninitialized(DType.FLOAT32, Shape.of(piece.length()));
                Tensor grad = memory.allocate(DType.FLOAT32, Shape.of(piece.length()));
                FloatBuffer v = value.buffer().asFloatBuffer();
                v.put(0, weights, piece.fromInSlice(), piece.length());
                values.add(v);
                grads.add(grad.buffer().asFloatBuffer());
                pieces.add(new Parameter(piece.parameter(), value, grad));
            }
            optimizer = recipe.createOptimizer(memory);
            if (!optimizerValues.isEmpty()) {
                Map<String, Tensor> tensors = new HashMap<>();
                for (Map.Entry<String, float[]> e : optimizerValues.entrySet()) {
                    tensors.put(e.getKey(), Convert.fromFloats(e.getValue(), Shape.of(e.getValue().length), memory));
                }
                optimizer.loadState(tensors, progress[OPTIMIZER_STEPS]);
                for (Tensor t : tensors.values()) {
                    t.close();
                }
            } else if (progress[OPTIMIZER_STEPS] > 0) {
                optimizer.loadState(Map.of(), progress[OPTIMIZER_STEPS]);
            }
        }

        float[] weights() {
            float[] out = new float[layout.sliceLength(id)];
            List<ParameterLayout.Piece> layoutPieces = layout.pieces(id);
            for (int i = 0; i < layoutPieces.size(); i++) {
                ParameterLayout.Piece piece = layoutPieces.get(i);
                values.get(i).get(0, out, piece.fromInSlice(), piece.length());
            }
            return out;
        }

        /** grad ← sum / samples (the sum is scaled in place: it is this step's and dropped after), then one optimizer step. */
        void update(float[] sum, long samples) {
            float inverse = (float) (1.0 / samples);
            for (int j = 0; j < sum.length; j++) {
                sum[j] *= inverse;
            }
            List<ParameterLayout.Piece> layoutPieces = layout.pieces(id);
            for (int i = 0; i < layoutPieces.size(); i++) {
                ParameterLayout.Piece piece = layoutPieces.get(i);
                grads.get(i).put(0, sum, piece.fromInSlice(), piece.length());
            }
            if (recipe.schedule() != null) {
                optimizer.setLearningRate(recipe.schedule().at(optimizer.steps()));
            }
            optimizer.step(pieces);
            progress[OPTIMIZER_STEPS] = optimizer.steps();
        }
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        var store = context.getKeyedStateStore();
        weightsState = store.getState(
                new ValueStateDescriptor<>("weights", PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO));
        progressState = store.getState(
                new ValueStateDescriptor<>("progress", PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        optimizerState = store.getMapState(new MapStateDescriptor<>("optimizer-state", Types.STRING,
                PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO));
        pendingSumsState = store.getMapState(new MapStateDescriptor<>("pending-gradient-sums", Types.LONG,
                PrimitiveArrayTypeInfo.FLOAT_PRIMITIVE_ARRAY_TYPE_INFO));
        pendingCountsState = store.getMapState(new MapStateDescriptor<>("pending-counts", Types.LONG,
                PrimitiveArrayTypeInfo.LONG_PRIMITIVE_ARRAY_TYPE_INFO));
        pendingLossState = store.getMapState(
                new MapStateDescriptor<>("pending-loss", Types.LONG, Types.DOUBLE));
    }

    @Override
    public void open() throws Exception {
        super.open();
        try (Kernels kernels = Kernels.create(1, Kernels.Preference.REFERENCE);
             Model model = recipe.createModel(kernels)) {
            layout = new ParameterLayout(model.parameters(), slices);
            initialWeights = new float[slices][];
            for (int s = 0; s < slices; s++) {
                initialWeights[s] = layout.gatherWeights(model.parameters(), s);
            }
        }
        memory = Allocator.root("parameter-shard", Allocator.directMemoryLimitBytes());
        live = new HashMap<>();
    }

    @Override
    public void processElement(StreamRecord<GradientSlice> element) throws Exception {
        GradientSlice g = element.getValue();
        int id = g.sliceId();
        if (id >= slices || g.worker() >= workers || g.gradientSum().length != layout.sliceLength(id)) {
            throw new IllegalArgumentException(g + " does not fit this loop: " + slices + " slices, " + workers
                    + " workers, slice length " + (id < slices ? layout.sliceLength(id) : -1) + ", got "
                    + g.gradientSum().length + " values");
        }
        Slice slice = live.get(id);
        if (slice == null) {
            slice = load(id);
            live.put(id, slice);
        }
        if (g.step() <= slice.progress[VERSION]) {
            throw new IllegalStateException(g + " arrived after step " + g.step()
                    + " was applied: a contribution was delivered twice");
        }
        Pending p = slice.pending.get(g.step());
        if (p == null) {
            p = new Pending(new float[g.gradientSum().length], new long[PENDING_MASK + (workers + 63) / 64], 0);
            slice.pending.put(g.step(), p);
        }
        long bit = 1L << (g.worker() % 64);
        int word = PENDING_MASK + g.worker() / 64;
        if ((p.counts[word] & bit) != 0) {
            throw new IllegalStateException("worker " + g.worker() + " contributed twice to step " + g.step()
                    + " of slice " + id);
        }
        p.counts[word] |= bit;
        p.counts[PENDING_SAMPLES] += g.sampleCount();
        p.counts[PENDING_FINISHED] += g.finished() ? 1 : 0;
        p.lossSum += g.lossSum();
        float[] add = g.gradientSum();
        float[] sum = p.sum;
        for (int i = 0; i < sum.length; i++) {
            sum[i] += add[i];
        }
        Map.Entry<Long, Pending> next;
        while ((next = slice.pending.firstEntry()) != null && next.getKey() == slice.progress[VERSION] + 1
                && contributors(next.getValue()) == workers) {
            slice.pending.pollFirstEntry();
            output.collect(new StreamRecord<>(apply(slice, next.getKey(), next.getValue())));
        }
    }

    private static int contributors(Pending p) {
        int n = 0;
        for (int w = PENDING_MASK; w < p.counts.length; w++) {
            n += Long.bitCount(p.counts[w]);
        }
        return n;
    }

    private WeightSlice apply(Slice slice, long step, Pending p) {
        long samples = p.counts[PENDING_SAMPLES];
        if (samples > 0) {
            slice.update(p.sum, samples);
        }
        slice.progress[VERSION] = step;
        slice.progress[SAMPLES_APPLIED] += samples;
        boolean last = p.counts[PENDING_FINISHED] == workers;
        return new WeightSlice(step, slice.id, slice.progress[SAMPLES_APPLIED],
                samples > 0 ? p.lossSum / samples : Double.NaN, last, slice.weights());
    }

    /** The slice of the current key from keyed state, or from the model's initial weights. */
    private Slice load(int id) throws Exception {
        float[] weights = weightsState.value();
        long[] progress = progressState.value();
        Map<String, float[]> optimizerValues = new HashMap<>();
        for (Map.Entry<String, float[]> e : optimizerState.entries()) {
            optimizerValues.put(e.getKey(), e.getValue());
        }
        Slice slice = new Slice(id, weights == null ? initialWeights[id] : weights,
                progress == null ? new long[3] : progress.clone(), optimizerValues);
        for (Map.Entry<Long, float[]> e : pendingSumsState.entries()) {
            slice.pending.put(e.getKey(), new Pending(e.getValue().clone(), pendingCountsState.get(e.getKey()).clone(),
                    pendingLossState.get(e.getKey())));
        }
        return slice;
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        for (Slice slice : live.values()) {
            setCurrentKey(keyOf(slice.id));
            weightsState.update(slice.weights());
            progressState.update(slice.progress.clone());
            optimizerState.clear();
            for (Map.Entry<String, Tensor> e : slice.optimizer.state().entrySet()) {
                optimizerState.put(e.getKey(), Convert.toFloatArray(e.getValue()));
                e.getValue().close();
            }
            pendingSumsState.clear();
            pendingCountsState.clear();
            pendingLossState.clear();
            for (Map.Entry<Long, Pending> e : slice.pending.entrySet()) {
                pendingSumsState.put(e.getKey(), e.getValue().sum.clone());
                pendingCountsState.put(e.getKey(), e.getValue().counts.clone());
                pendingLossState.put(e.getKey(), e.getValue().lossSum);
            }
        }
        super.snapshotState(context);
    }

    private Integer keyOf(int slice) {
        return sliceKeys[slice];
    }

    @Override
    public void close() throws Exception {
        live = null;
        if (memory != null) {
            memory.close();
        }
        super.close();
    }
}
