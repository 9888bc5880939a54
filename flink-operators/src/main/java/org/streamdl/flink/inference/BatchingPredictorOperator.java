package org.streamdl.flink.inference;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.OutputTag;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.MemoryRequirement;
import org.streamdl.dnn.model.Model;
import org.streamdl.flink.connector.formats.AvroSampleFormat;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.Origin;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.flink.connector.serialization.StreamDLTypes;
import org.streamdl.flink.training.ModelBytes;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * Collects samples into batches and scores each batch with one forward pass ({@link Predictor}).
 * The open batch is scored before each checkpoint barrier and before the model changes, so a batch
 * is never carried across either. Subclasses say where the model comes from.
 */
abstract class BatchingPredictorOperator extends AbstractStreamOperator<Prediction> {
    private static final long serialVersionUID = 1L;

    static final OutputTag<DeadLetter> DEAD_LETTERS = new OutputTag<>("predictor-dead-letters", StreamDLTypes.DEAD_LETTER);

    private final String modelName;
    protected final long[] featureShape;
    private final int maxBatchSize;
    private final long maxBatchDelayMillis;
    protected final int threads;

    private transient volatile Model model;   // volatile: the memory gauges read it from the reporter's thread
    private transient long modelVersion;
    private transient List<Sample> batch;
    private transient long[] receivedAt;
    private transient boolean timerSet;
    private transient Counter predictions;
    private transient Counter deadLetters;
    private transient Histogram batchSizes;
    private transient Histogram queueDelayMillis;
    private transient Histogram latencyMillis;

    BatchingPredictorOperator(String modelName, long[] featureShape, int maxBatchSize, long maxBatchDelayMillis, int threads) {
        this.modelName = modelName;
        this.featureShape = featureShape.clone();
        this.maxBatchSize = maxBatchSize;
        this.maxBatchDelayMillis = maxBatchDelayMillis;
        this.threads = threads;
    }

    @Override
    public void open() throws Exception {
        super.open();
        batch = new ArrayList<>(maxBatchSize);
        receivedAt = new long[maxBatchSize];
        var metrics = getMetricGroup();
        predictions = metrics.counter("predictions");
        deadLetters = metrics.counter("deadLetters");
        metrics.meter("predictionsPerSecond", new MeterView(predictions));
        batchSizes = metrics.histogram("batchSize", new DescriptiveStatisticsHistogram(1000));
        queueDelayMillis = metrics.histogram("queueDelayMillis", new DescriptiveStatisticsHistogram(1000));
        latencyMillis = metrics.histogram("latencyMillis", new DescriptiveStatisticsHistogram(1000));
        metrics.gauge("modelVersion", () -> modelVersion);
        NativeMemoryGauges.register(metrics, () -> model);
    }

    boolean hasModel() {
        return model != null;
    }

    /**
     * Scores the open batch with the current model, then answers with {@code next} from now on. The
     * new model first runs once at every batch size this operator can send it, so its plans are built
     * before the first record waits for them, and the direct memory it then holds is logged.
     */
    void swapModel(Model next, long version) {
        MemoryRequirement need = MemoryRequirement.measureInference(next, Shape.of(featureShape), maxBatchSize);
        LOG.info("{} version {}, batches of up to {}: {} (the JVM allows {}; see docs/operations.md)", modelName, version,
                maxBatchSize, need.describe(), Allocator.bytesToString(Allocator.directMemoryLimitBytes()));
        score();
        Model previous = model;
        model = next;
        modelVersion = version;
        if (previous != null) {
            previous.close();
        }
    }

    /** Sends {@code sample} to the dead letters with {@code reason}. */
    void reject(Sample sample, String reason) {
        deadLetters.inc();
        output.collect(DEAD_LETTERS, new StreamRecord<>(new DeadLetter(AvroSampleFormat.encode(sample),
                Origin.other("predict " + modelName), reason, System.currentTimeMillis())));
    }

    /** Adds a sample that arrives now to the open batch (or the dead letters), scoring the batch when it is full. Needs a model. */
    void accept(Sample sample) throws Exception {
        accept(sample, getProcessingTimeService().getCurrentProcessingTime());
    }

    /** Like {@link #accept(Sample)} for a sample that arrived at {@code arrivedAt} and waited for a model. */
    void accept(Sample sample, long arrivedAt) throws Exception {
        String problem = problemWith(sample);
        if (problem != null) {
            reject(sample, problem);
            return;
        }
        receivedAt[batch.size()] = arrivedAt;
        batch.add(sample);
        if (batch.size() >= maxBatchSize || maxBatchDelayMillis == 0) {
            score();
        } else if (!timerSet) {
            timerSet = true;
            getProcessingTimeService().registerTimer(arrivedAt + maxBatchDelayMillis, this::onDelay);
        }
    }

    private void onDelay(long time) throws Exception {
        timerSet = false;
        if (batch.isEmpty()) {
            return;
        }
        long due = receivedAt[0] + maxBatchDelayMillis;
        if (time >= due) {
            score();
        } else {   // the batch the timer was set for left full; this one started later
            timerSet = true;
            getProcessingTimeService().registerTimer(due, this::onDelay);
        }
    }

    /** Why {@code sample} cannot be scored, naming its key and shape; null when it can. */
    private String problemWith(Sample sample) {
        if (sample.features().size() != 1) {
            return "sample '" + sample.key() + "' has features " + sample.features().keySet() + "; the model takes one";
        }
        TensorValue feature = sample.singleFeature();
        if (feature.dtype() != DType.FLOAT32 || !Arrays.equals(feature.shape(), featureShape)) {
            return "sample '" + sample.key() + "': feature is " + feature.dtype() + " " + Arrays.toString(feature.shape())
                    + " but the model takes FLOAT32 " + Arrays.toString(featureShape);
        }
        return null;
    }

    void score() {
        int n = batch.size();
        if (n == 0) {
            return;
        }
        long start = getProcessingTimeService().getCurrentProcessingTime();
        try (Allocator step = model.allocator().newChild("predict")) {
            Tensor x = step.allocateUninitialized(DType.FLOAT32, Shape.of(featureShape).withBatch(n));
            int rowBytes = (int) (x.elementCount() / n * Float.BYTES);
            for (int i = 0; i < n; i++) {
                x.buffer().put(i * rowBytes, batch.get(i).singleFeature().bytes());
            }
            Tensor y = model.predict(x, step);
            float[] outputs = org.streamdl.tensor.ops.Convert.toFloatArray(y);
            int classes = outputs.length / n;
            long done = getProcessingTimeService().getCurrentProcessingTime();
            for (int i = 0; i < n; i++) {
                Sample sample = batch.get(i);
                int best = 0;
                for (int j = 1; j < classes; j++) {
                    if (outputs[i * classes + j] > outputs[i * classes + best]) {
                        best = j;
                    }
                }
                float[] row = Arrays.copyOfRange(outputs, i * classes, (i + 1) * classes);
                output.collect(new StreamRecord<>(new Prediction(sample.key(), Map.of("output", TensorValue.ofFloats(row, classes)),
                        best, row[best], modelVersion, sample.eventTime(), receivedAt[i], done)));
                latencyMillis.update(done - receivedAt[i]);
            }
            queueDelayMillis.update(start - receivedAt[0]);
            batchSizes.update(n);
            predictions.inc(n);
        }
        batch.clear();
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        score();   // nothing waits in state: every sample before the barrier is answered before it
    }

    @Override
    public void finish() throws Exception {
        score();
        super.finish();
    }

    @Override
    public void close() throws Exception {
        try {
            if (model != null) {
                model.close();
            }
        } finally {
            super.close();
        }
    }

    /** The model of {@code bytes}, a model file named {@code name}, on this operator's kernels. */
    Model load(byte[] bytes, String name) throws IOException {
        return ModelBytes.read(bytes, name, Kernels.create(threads)).model();
    }
}
