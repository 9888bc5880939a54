package org.streamdl.flink.training;

import java.io.IOException;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.api.common.state.ListState;
import org.apache.flink.api.common.state.ListStateDescriptor;
import org.apache.flink.api.common.typeinfo.PrimitiveArrayTypeInfo;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataInputViewStreamWrapper;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.apache.flink.core.memory.DataOutputViewStreamWrapper;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.runtime.state.OperatorStateCheckpointOutputStream;
import org.apache.flink.runtime.state.StatePartitionStreamProvider;
import org.apache.flink.runtime.state.StateInitializationContext;
import org.apache.flink.runtime.state.StateSnapshotContext;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.apache.flink.util.ResourceGuard;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.losses.Loss;
import org.streamdl.dnn.model.MemoryRequirement;
import org.streamdl.dnn.model.Model;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.flink.connector.serialization.StreamDLTypes;
import org.streamdl.flink.inference.NativeMemoryGauges;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/**
 * Worker i of the training loop (the head). It forms local mini-batches from the samples it
 * receives, computes their gradient with the engine, sends it as slices to the parameter shards
 * and waits, yielding to its mailbox, for the new weights to come back through the
 * {@link FeedbackChannel}. Under {@code maxStaleness = s} it may run up to s steps ahead of the
 * newest weights it holds. Worker 0 emits the model snapshots.
 *
 * <p>Input that ends (bounded) is cached when more than one epoch is asked for; the further epochs
 * run over the cache with seeded shuffles after the input ends, then the worker contributes empty
 * "finished" steps until every worker is done and the last weights arrive. Online input forms
 * batches as samples arrive; a worker with too few samples contributes what it has (possibly
 * nothing) once {@code maxBatchDelay} has passed, so an idle partition never stalls the others.
 *
 * <p>Checkpoints: weight slices that the shards sent before their snapshot may still be on the back
 * edge when this operator takes its own. From its snapshot until the tail's marker for that
 * checkpoint comes back, every slice received is also written to raw operator state, whose stream
 * is held open by a lease so the checkpoint completes only then; a restore replays them.
 */
final class TrainingWorkerOperator extends AbstractStreamOperator<GradientSlice>
        implements OneInputStreamOperator<Sample, GradientSlice>, BoundedOneInput {
    private static final long serialVersionUID = 1L;
    static final OutputTag<ModelSnapshot> SNAPSHOTS = new OutputTag<>("model-snapshots", StreamDLTypes.MODEL_SNAPSHOT);
    private static final int STATE_FORMAT = 1;
    private static final Logger LOG = LoggerFactory.getLogger(TrainingWorkerOperator.class);
    /** Steps after which a worker logs the direct memory its model holds: warm, with optimizer state and plans. */
    private static final int MEMORY_REPORT_AFTER_STEPS = 20;
    /** How long a worker waits for the next weights before it reports which slices have not come. */
    static final long STALL_REPORT_MILLIS = 30_000;
    private static final LoopTypes.WeightSliceSerializer SLICES = new LoopTypes.WeightSliceSerializer();   // stateless

    private final TrainingRecipe recipe;
    private final LoopConfig config;
    private final transient MailboxExecutor mailbox;

    private transient int worker;
    private transient int localBatchSize;
    private transient Kernels kernels;
    private transient volatile Model model;   // volatile: the memory gauges read it from the reporter's thread
    private transient List<Parameter> parameters;
    private transient ParameterLayout layout;
    private transient FeedbackChannel channel;
    private transient Rng rng;
    private transient Shape sampleShape;
    private transient Tensor batchFeatures;
    private transient Tensor batchLabels;

    private transient List<Sample> pending;
    private transient List<Sample> cache;
    private transient long version;
    private transient long contributed;
    private transient long samplesApplied;
    private transient double meanLoss;
    private transient boolean trainingDone;
    private transient boolean inputEnded;
    private transient int maxBufferedSamples;
    private transient long contributedAtNanos;
    private transient TreeMap<Long, WeightSlice[]> arriving;
    private transient long stalledAtVersion = -1;   // the version a wait for weights began at, or -1
    private transient long stalledSinceMillis;
    private transient long reportedStallAtVersion = -1;
    private transient String stallReport;           // the last report of a wait past STALL_REPORT_MILLIS, or null
    private transient List<WeightSlice> replay;
    private transient List<BackEdgeLog> logs;
    private transient long lastSampleAtMillis;
    private transient long turnSinceMillis;
    private transient long lastSnapshotVersion;
    private transient long lastSnapshotSamples;
    private transient long lastSnapshotAtMillis;

    private transient ListState<byte[]> progressState;
    private transient ListState<Sample> pendingState;
    private transient ListState<Sample> cacheState;

    private transient Counter steps;
    private transient Counter samplesCounter;
    private transient long lastComputeNanos;
    private transient long lastWaitNanos;
    private transient long lastBytesSent;
    private transient long totalComputeNanos;
    private transient long totalWaitNanos;
    private transient long engineNanos;

    TrainingWorkerOperator(StreamOperatorParameters<GradientSlice> parameters, TrainingRecipe recipe, LoopConfig config) {
        super(parameters);
        this.recipe = recipe;
        this.config = config;
        this.mailbox = parameters.getMailboxExecutor();
    }

    /** A checkpoint's log of the back edge, open from this operator's snapshot until the marker returns. */
    private record BackEdgeLog(long checkpointId, DataOutputViewStreamWrapper out, ResourceGuard.Lease lease) {
        void append(WeightSlice slice) throws IOException {
            out.writeBoolean(true);
            SLICES.serialize(slice, out);
        }

        void close() throws IOException {
            try {
                out.writeBoolean(false);
                out.flush();
            } finally {
                lease.close();
            }
        }
    }

    @Override
    public void initializeState(StateInitializationContext context) throws Exception {
        super.initializeState(context);
        worker = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
        progressState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("worker-progress", PrimitiveArrayTypeInfo.BYTE_PRIMITIVE_ARRAY_TYPE_INFO));
        pendingState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("pending-samples", StreamDLTypes.SAMPLE));
        cacheState = context.getOperatorStateStore().getListState(
                new ListStateDescriptor<>("cached-samples", StreamDLTypes.SAMPLE));
        pending = new ArrayList<>();
        cache = new ArrayList<>();
        arriving = new TreeMap<>();
        replay = new ArrayList<>();
        logs = new ArrayList<>();
        kernels = Kernels.create(config.threadsPerWorker());
        model = recipe.createModel(kernels);
        parameters = model.parameters();
        layout = new ParameterLayout(parameters, config.slices());
        localBatchSize = config.localBatchSize(worker);
        maxBufferedSamples = (config.maxStaleness() + 4) * localBatchSize;
        rng = new Rng(config.seed() * 31 + worker);
        if (context.isRestored()) {
            for (byte[] blob : progressState.get()) {
                restoreProgress(blob);
            }
            for (Sample s : pendingState.get()) {
                pending.add(s);
            }
            for (Sample s : cacheState.get()) {
                cache.add(s);
            }
            for (StatePartitionStreamProvider partition : context.getRawOperatorStateInputs()) {
                try (var in = partition.getStream()) {
                    DataInputViewStreamWrapper view = new DataInputViewStreamWrapper(in);
                    while (view.readBoolean()) {
                        replay.add(SLICES.deserialize(view));
                    }
                }
            }
        }
    }

    @Override
    public void open() throws Exception {
        super.open();
        steps = getMetricGroup().counter("steps");
        samplesCounter = getMetricGroup().counter("samples");
        getMetricGroup().meter("stepsPerSecond", new MeterView(steps));
        getMetricGroup().meter("samplesPerSecond", new MeterView(samplesCounter));
        getMetricGroup().gauge("modelVersion", () -> version);
        getMetricGroup().gauge("loss", () -> meanLoss);
        getMetricGroup().gauge("computeMillisPerStep", () -> lastComputeNanos / 1e6);
        getMetricGroup().gauge("waitMillisPerStep", () -> lastWaitNanos / 1e6);
        getMetricGroup().gauge("bytesSentPerStep", () -> lastBytesSent);
        NativeMemoryGauges.register(getMetricGroup(), () -> model);
        getProcessingTimeService().scheduleWithFixedDelay(this::checkStall, STALL_REPORT_MILLIS / 3, STALL_REPORT_MILLIS / 3);
        long now = now();
        lastSampleAtMillis = now;
        turnSinceMillis = now;
        lastSnapshotAtMillis = now;
        channel = FeedbackChannel.of(config.loopId(), worker, getRuntimeContext().getTaskInfo().getAttemptNumber());
        for (WeightSlice slice : replay) {
            if (slice.version() > version) {
                accept(slice);
            }
        }
        replay.clear();
        channel.register(mailbox, this::onFeedback);
        if (config.maxBatchDelayMillis() > 0) {
            scheduleIdleCheck();
        }
    }

    @Override
    public void processElement(StreamRecord<Sample> element) throws Exception {
        Sample sample = element.getValue();
        pending.add(sample);
        if (config.epochs() > 1) {
            cache.add(sample);
        }
        lastSampleAtMillis = now();
        contributeFullBatches();
        // Keep taking input while waiting for weights: a worker that blocked at once would stall a
        // round-robin upstream that still owes the other workers their batches. Past this bound the
        // worker blocks, which is safe because the others have then received as many samples.
        while (pending.size() >= maxBufferedSamples) {
            mailbox.yield();
        }
    }

    private void contributeFullBatches() {
        while (mayContribute() && pending.size() >= localBatchSize) {
            contribute(take(localBatchSize), false);
        }
    }

    @Override
    public void endInput() throws Exception {
        inputEnded = true;
        while (!pending.isEmpty()) {
            awaitTurn();
            contribute(take(Math.min(localBatchSize, pending.size())), false);
        }
        int[] order = new int[cache.size()];
        for (int epoch = 2; epoch <= config.epochs(); epoch++) {
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            rng.shuffle(order);
            for (int from = 0; from < order.length; from += localBatchSize) {
                List<Sample> batch = new ArrayList<>(localBatchSize);
                for (int i = from; i < Math.min(order.length, from + localBatchSize); i++) {
                    batch.add(cache.get(order[i]));
                }
                awaitTurn();
                contribute(batch, false);
            }
        }
        cache.clear();
        while (!trainingDone) {
            awaitTurn();
            if (!trainingDone) {
                contribute(List.of(), true);
            }
        }
    }

    /** Yields to the mailbox (feedback, timers) until this worker may contribute its next step. */
    private void awaitTurn() throws InterruptedException {
        while (contributed - version > config.maxStaleness() && !trainingDone) {
            mailbox.yield();
        }
    }

    private boolean mayContribute() {
        return !trainingDone && contributed - version <= config.maxStaleness();
    }

    private List<Sample> take(int count) {
        List<Sample> batch = new ArrayList<>(pending.subList(0, count));
        pending.subList(0, count).clear();
        return batch;
    }

    /** Computes the gradient sum of {@code batch} (may be empty) on the current weights and sends its slices. */
    private void contribute(List<Sample> batch, boolean finished) {
        long start = System.nanoTime();
        long step = ++contributed;
        int count = batch.size();
        double lossSum = 0;
        if (count > 0) {
            lossSum = computeGradients(batch) * count;
        }
        engineNanos += System.nanoTime() - start;
        long bytes = 0;
        for (int s = 0; s < layout.sliceCount(); s++) {
            float[] gradientSum = count > 0 ? layout.gatherGradients(parameters, s, count) : new float[layout.sliceLength(s)];
            output.collect(new StreamRecord<>(new GradientSlice(step, s, worker, count, lossSum, finished, gradientSum)));
            bytes += 4L * gradientSum.length + 40;
        }
        steps.inc();
        if (steps.getCount() == MEMORY_REPORT_AFTER_STEPS) {
            LOG.info("training worker {}: {} (the JVM allows {} of direct memory; see docs/operations.md)",
                    getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(), MemoryRequirement.of(model).describe(),
                    Allocator.bytesToString(Allocator.directMemoryLimitBytes()));
        }
        samplesCounter.inc(count);
        lastBytesSent = bytes;
        contributedAtNanos = System.nanoTime();
        lastComputeNanos = contributedAtNanos - start;
        totalComputeNanos += lastComputeNanos;
        turnSinceMillis = now();
    }

    /** Forward and backward of one local batch; returns the mean loss and leaves the gradients in the parameters. */
    private double computeGradients(List<Sample> batch) {
        try (Allocator step = model.allocator().newChild("train-step")) {
            Tensor features = null;
            Tensor labels = null;
            for (int i = 0; i < batch.size(); i++) {
                Sample sample = batch.get(i);
                TensorValue value = config.featureName() == null ? sample.singleFeature() : sample.feature(config.featureName());
                if (sampleShape == null) {
                    sampleShape = Shape.of(value.shape());
                }
                if (value.dtype() != DType.FLOAT32 || !Arrays.equals(value.shape(), sampleShape.dims())) {
                    throw new IllegalArgumentException("sample '" + sample.key() + "': features are " + value.dtype() + " "
                            + Arrays.toString(value.shape()) + " but training expects FLOAT32 " + sampleShape
                            + " (the shape of the first sample)");
                }
                if (features == null) {
                    if (batchFeatures == null) {
                        // one pair of batch tensors for the worker's life, as the local Trainer does: oneDNN
                        // then sees the same source memory every step
                        long[] dims = new long[sampleShape.rank() + 1];
                        dims[0] = localBatchSize;
                        System.arraycopy(sampleShape.dims(), 0, dims, 1, sampleShape.rank());
                        batchFeatures = model.allocator().allocateUninitialized(DType.FLOAT32, Shape.of(dims));
                        batchLabels = sample.hasClassLabel()
                                ? model.allocator().allocateUninitialized(DType.INT32, Shape.of(localBatchSize))
                                : labelTensor(sample, localBatchSize, model.allocator());
                    }
                    int count = batch.size();
                    features = count == localBatchSize ? batchFeatures : batchFeatures.narrow(0, 0, count);
                    labels = count == localBatchSize ? batchLabels : batchLabels.narrow(0, 0, count);
                }
                byte[] bytes = value.bytes();
                features.buffer().put(i * bytes.length, bytes);
                if (labels.dtype() == DType.INT32) {
                    if (!sample.hasClassLabel()) {
                        throw new IllegalArgumentException("sample '" + sample.key() + "' has no class label");
                    }
                    labels.buffer().duplicate().order(ByteOrder.LITTLE_ENDIAN).putInt(i * 4, sample.labelClass());
                } else {
                    byte[] labelBytes = sample.labelTensor().bytes();
                    labels.buffer().put(i * labelBytes.length, labelBytes);
                }
            }
            Context ctx = Context.training(step, kernels, rng);
            Loss loss = recipe.createLoss();
            Tensor output = model.network().forward(features, ctx);
            double value = loss.forward(output, labels, step);
            model.network().backward(loss.gradient(step), ctx);
            return value;
        }
    }

    private static Tensor labelTensor(Sample sample, int count, Allocator step) {
        TensorValue label = sample.labelTensor();
        if (label == null) {
            throw new IllegalArgumentException("sample '" + sample.key() + "' has neither a class label nor a label tensor");
        }
        return step.allocateUninitialized(label.dtype(), Shape.of(label.shape()).withBatch(count));
    }

    private void onFeedback(FeedbackChannel.Item item) {
        try {
            if (item.isMarker()) {
                Iterator<BackEdgeLog> it = logs.iterator();
                while (it.hasNext()) {
                    BackEdgeLog log = it.next();
                    if (log.checkpointId() <= item.checkpointMarker()) {
                        log.close();
                        it.remove();
                    }
                }
                return;
            }
            for (BackEdgeLog log : logs) {
                log.append(item.slice());
            }
            accept(item.slice());
        } catch (Exception e) {
            throw new IllegalStateException("worker " + worker + " could not take " + item, e);
        }
    }

    /**
     * Reports, once per version, a wait for weights that has lasted {@link #STALL_REPORT_MILLIS}: which
     * slices of which versions have come and which have not, so a lost slice shows in the log instead
     * of a worker that waits in silence.
     */
    private void checkStall(long now) {
        boolean waiting = !trainingDone && contributed - version > config.maxStaleness();
        if (!waiting) {
            stalledAtVersion = -1;
            return;
        }
        if (stalledAtVersion != version) {
            stalledAtVersion = version;
            stalledSinceMillis = now;
            return;
        }
        if (now - stalledSinceMillis >= STALL_REPORT_MILLIS && reportedStallAtVersion != version) {
            reportedStallAtVersion = version;
            StringBuilder slices = new StringBuilder();
            for (long v = version + 1; v <= contributed; v++) {
                WeightSlice[] parts = arriving.get(v);
                List<Integer> missing = new ArrayList<>();
                for (int id = 0; id < layout.sliceCount(); id++) {
                    if (parts == null || parts[id] == null) {
                        missing.add(id);
                    }
                }
                slices.append(slices.length() == 0 ? "" : "; ").append("version ").append(v).append(" misses slices ")
                        .append(missing).append(" of ").append(layout.sliceCount());
            }
            stallReport = Checks.format("training worker %s has waited %s s for weights after version %s (it contributed"
                    + " up to step %s): %s; each slice comes from the parameter-shard subtask that owns it",
                    worker, (now - stalledSinceMillis) / 1000, version, contributed, slices);
            LOG.warn("{}", stallReport);
        }
    }

    /** The last report of a long wait for weights, or null; for tests. */
    String stallReport() {
        return stallReport;
    }

    /** Collects the slices of each version and applies complete versions in order. */
    private void accept(WeightSlice slice) throws IOException {
        if (slice.version() <= version) {
            throw new IllegalStateException("worker " + worker + " holds version " + version + " and received " + slice
                    + " again");
        }
        WeightSlice[] parts = arriving.computeIfAbsent(slice.version(), v -> new WeightSlice[layout.sliceCount()]);
        parts[slice.sliceId()] = slice;
        while (!arriving.isEmpty() && arriving.firstKey() == version + 1 && complete(arriving.firstEntry().getValue())) {
            apply(arriving.pollFirstEntry().getValue());
        }
    }

    private static boolean complete(WeightSlice[] parts) {
        for (WeightSlice p : parts) {
            if (p == null) {
                return false;
            }
        }
        return true;
    }

    private void apply(WeightSlice[] parts) throws IOException {
        for (WeightSlice part : parts) {
            layout.scatterWeights(parameters, part.sliceId(), part.weights());
        }
        version = parts[0].version();
        samplesApplied = parts[0].samplesApplied();
        if (!Double.isNaN(parts[0].meanLoss())) {
            meanLoss = parts[0].meanLoss();
        }
        trainingDone = parts[0].last();
        turnSinceMillis = now();
        maybeSnapshot();
        lastWaitNanos = System.nanoTime() - contributedAtNanos;
        totalWaitNanos += lastWaitNanos;
        if (!inputEnded) {
            contributeFullBatches();
            if (config.maxBatchDelayMillis() > 0 && mayContribute() && pending.isEmpty()
                    && now() - lastSampleAtMillis >= config.maxBatchDelayMillis()) {
                contribute(List.of(), false);   // an idle partition answers at once, so the others never wait for it
            }
        }
    }

    private void maybeSnapshot() throws IOException {
        if (worker != 0) {
            return;
        }
        boolean progressed = samplesApplied > lastSnapshotSamples;
        boolean due = (config.snapshotEverySteps() > 0 && version - lastSnapshotVersion >= config.snapshotEverySteps())
                || (config.snapshotEveryMillis() > 0 && now() - lastSnapshotAtMillis >= config.snapshotEveryMillis());
        if (trainingDone || (progressed && due)) {
            Map<String, String> provenance = new LinkedHashMap<>(config.provenance());
            provenance.put("training.version", Long.toString(version));
            provenance.put("training.samplesApplied", Long.toString(samplesApplied));
            provenance.put("training.workers", Integer.toString(config.workers()));
            provenance.put("training.globalBatchSize", Integer.toString(config.globalBatchSize()));
            provenance.put("training.maxStaleness", Integer.toString(config.maxStaleness()));
            provenance.put("training.final", Boolean.toString(trainingDone));
            provenance.put("backend", kernels.backendName());
            byte[] file = ModelBytes.of(model, provenance);
            output.collect(SNAPSHOTS, new StreamRecord<>(
                    new ModelSnapshot(recipe.modelName(), version, samplesApplied, System.currentTimeMillis(), file)));
            lastSnapshotVersion = version;
            lastSnapshotSamples = samplesApplied;
            lastSnapshotAtMillis = now();
        }
    }

    private void scheduleIdleCheck() {
        long period = Math.max(1, config.maxBatchDelayMillis() / 4);
        getProcessingTimeService().registerTimer(now() + period, t -> {
            if (!inputEnded && mayContribute() && now() - turnSinceMillis >= config.maxBatchDelayMillis()) {
                contribute(take(Math.min(localBatchSize, pending.size())), false);
            }
            if (!inputEnded) {
                scheduleIdleCheck();
            }
        });
    }

    private long now() {
        return getProcessingTimeService().getCurrentProcessingTime();
    }

    @Override
    public void snapshotState(StateSnapshotContext context) throws Exception {
        super.snapshotState(context);
        progressState.update(List.of(encodeProgress()));
        pendingState.update(pending);
        cacheState.update(cache);
        OperatorStateCheckpointOutputStream raw = context.getRawOperatorStateOutput();
        raw.startNewPartition();
        logs.add(new BackEdgeLog(context.getCheckpointId(), new DataOutputViewStreamWrapper(raw), raw.acquireLease()));
    }

    /**
     * Training has ended and the back edge is silent, so the markers of checkpoints still logging it
     * will not return; their logs hold all the feedback there was. Closing them here matters: Flink
     * waits for pending checkpoints after {@code finish()} and before {@code close()}, and a log left
     * open kept its checkpoint, and so the task, from ever completing.
     */
    @Override
    public void finish() throws Exception {
        if (logs != null) {   // null when the operator never initialized its state (a test harness closing it at once)
            for (BackEdgeLog log : logs) {
                log.close();
            }
            logs.clear();
        }
        super.finish();
    }

    @Override
    public void notifyCheckpointAborted(long checkpointId) throws Exception {
        super.notifyCheckpointAborted(checkpointId);
        Iterator<BackEdgeLog> it = logs.iterator();
        while (it.hasNext()) {
            BackEdgeLog log = it.next();
            if (log.checkpointId() == checkpointId) {
                log.lease().close();
                it.remove();
            }
        }
    }

    private byte[] encodeProgress() throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(1024 + (int) layout.totalLength() * 4);
        out.writeInt(STATE_FORMAT);
        out.writeInt(worker);
        out.writeInt(config.workers());
        out.writeLong(version);
        out.writeLong(contributed);
        out.writeLong(samplesApplied);
        out.writeDouble(meanLoss);
        out.writeBoolean(trainingDone);
        for (long word : rng.state()) {
            out.writeLong(word);
        }
        for (int s = 0; s < layout.sliceCount(); s++) {
            LoopTypes.writeFloats(layout.gatherWeights(parameters, s), out);
        }
        Map<String, Tensor> buffers = model.buffers();
        out.writeInt(buffers.size());
        for (Map.Entry<String, Tensor> e : buffers.entrySet()) {
            out.writeUTF(e.getKey());
            LoopTypes.writeFloats(Convert.toFloatArray(e.getValue()), out);
        }
        List<WeightSlice> early = new ArrayList<>();
        for (WeightSlice[] parts : arriving.values()) {
            for (WeightSlice p : parts) {
                if (p != null) {
                    early.add(p);
                }
            }
        }
        out.writeInt(early.size());
        for (WeightSlice p : early) {
            SLICES.serialize(p, out);
        }
        return out.getCopyOfBuffer();
    }

    private void restoreProgress(byte[] blob) throws IOException {
        DataInputDeserializer in = new DataInputDeserializer(blob);
        int format = in.readInt();
        if (format != STATE_FORMAT) {
            throw new IOException("training worker state has format " + format + "; this StreamDL reads " + STATE_FORMAT);
        }
        int savedWorker = in.readInt();
        int savedWorkers = in.readInt();
        if (savedWorker != worker || savedWorkers != config.workers()) {
            throw new IllegalStateException("worker " + worker + " of " + config.workers() + " was given the state of worker "
                    + savedWorker + " of " + savedWorkers + ": training cannot change its parallelism on restore");
        }
        version = in.readLong();
        contributed = in.readLong();
        samplesApplied = in.readLong();
        meanLoss = in.readDouble();
        trainingDone = in.readBoolean();
        long[] state = rng.state();
        for (int i = 0; i < state.length; i++) {
            state[i] = in.readLong();
        }
        rng = Rng.fromState(state);
        for (int s = 0; s < layout.sliceCount(); s++) {
            layout.scatterWeights(parameters, s, LoopTypes.readFloats(in));
        }
        int bufferCount = in.readInt();
        Map<String, Tensor> buffers = model.buffers();
        for (int i = 0; i < bufferCount; i++) {
            String name = in.readUTF();
            float[] values = LoopTypes.readFloats(in);
            Tensor t = buffers.get(name);
            if (t == null || t.elementCount() != values.length) {
                throw new IllegalStateException("restored buffer '" + name + "' does not fit the model " + recipe.modelName());
            }
            t.buffer().asFloatBuffer().put((int) t.offset(), values);
        }
        int early = in.readInt();
        for (int i = 0; i < early; i++) {
            replay.add(SLICES.deserialize(in));
        }
    }


    @Override
    public void close() throws Exception {
        if (steps != null) {
            LOG.info("training worker {} of {}: {} steps, {} samples, compute {} ms (engine {} ms), waiting for weights {} ms, model version {}",
                    worker, config.workers(), steps.getCount(), samplesCounter.getCount(), totalComputeNanos / 1_000_000, engineNanos / 1_000_000,
                    totalWaitNanos / 1_000_000, version);
        }
        try {
            // a task cancelled before initializeState ran has none of these: an exception here would
            // be fatal to the whole TaskManager, as a cancellation during a restart showed
            if (logs != null) {
                for (BackEdgeLog log : logs) {
                    log.lease().close();
                }
                logs.clear();
            }
            if (channel != null) {
                channel.close();
            }
            if (model != null) {
                model.close();
            }
            if (kernels != null) {
                kernels.close();
            }
        } finally {
            super.close();
        }
    }
}
