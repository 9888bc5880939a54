package org.streamdl.flink.inference;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.Model;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.serialization.StreamDLTypes;
import org.streamdl.flink.training.ModelBytes;

/**
 * Micro-batched scoring: a stream of samples becomes a stream of predictions, from a model file or
 * from a stream of model versions (hot swap, {@link #fromStream}).
 *
 * <pre>{@code
 * Predictor.Result scored = Predictor.fromFile("s3://models/lenet5.sdlm", 1, 28, 28)
 *     .maxBatchSize(256).maxBatchDelay(Duration.ofMillis(5))
 *     .build()
 *     .predict(samples);
 * scored.predictions().sinkTo(...);
 * scored.deadLetters().sinkTo(...);   // samples whose features the model cannot take, with the reason
 * }</pre>
 *
 * <p>Each subtask collects samples until it has {@code maxBatchSize} of them or the oldest has
 * waited {@code maxBatchDelay}, then runs the batch through the model once. Before each checkpoint
 * barrier the open batch is scored, so no sample waits in state and a transactional sink downstream
 * gives exactly-once predictions. The model file is read and checked when the job is built (a bad
 * file is refused before anything runs) and read again by each subtask from the same path, which
 * may be any file system Flink reaches.
 */
public final class Predictor {
    private final String modelPath;                    // or null, with models
    private final DataStream<ModelSnapshot> models;    // or null, with modelPath
    private final long[] featureShape;
    private final int maxBatchSize;
    private final Duration maxBatchDelay;
    private final int threads;
    private final long modelVersion;

    private Predictor(Builder b) {
        this.modelPath = b.modelPath;
        this.models = b.models;
        this.featureShape = b.featureShape;
        this.maxBatchSize = b.maxBatchSize;
        this.maxBatchDelay = b.maxBatchDelay;
        this.threads = b.threads;
        this.modelVersion = b.modelVersion;
    }

    /** The predictions and the samples that could not be scored. */
    public record Result(SingleOutputStreamOperator<Prediction> predictions, DataStream<DeadLetter> deadLetters) {}

    /**
     * A predictor of the model file at {@code path}, for samples whose single feature is float32 of
     * {@code featureShape} (one sample, without the batch axis).
     */
    public static Builder fromFile(String path, long... featureShape) {
        if (path == null || path.isBlank()) {
            throw new IllegalArgumentException("the model path is empty");
        }
        return new Builder(path, null, featureShape);
    }

    /**
     * A predictor of the newest model on {@code models} (for example {@link
     * org.streamdl.flink.training.DistributedTraining}'s snapshots, or model files from Kafka), for
     * samples whose single feature is float32 of {@code featureShape}. Every subtask gets every
     * model. Samples that arrive before the first model wait for it in state; a newer version
     * replaces the current one between batches, without a restart; a model that cannot take the
     * samples is refused and the current one kept. Predictions carry the version that answered.
     */
    public static Builder fromStream(DataStream<ModelSnapshot> models, long... featureShape) {
        if (models == null) {
            throw new IllegalArgumentException("the model stream is null");
        }
        return new Builder(null, models, featureShape);
    }

    public Result predict(DataStream<Sample> samples) {
        String name = modelPath != null ? "predict " + new Path(modelPath).getName() : "predict (models from a stream)";
        SingleOutputStreamOperator<Prediction> predictions = modelPath != null
                ? samples.transform(name, StreamDLTypes.PREDICTION, fileOperator())
                : samples.connect(models.broadcast()).transform(name, StreamDLTypes.PREDICTION, streamOperator());
        return new Result(predictions, predictions.getSideOutput(BatchingPredictorOperator.DEAD_LETTERS));
    }

    FilePredictorOperator fileOperator() {
        return new FilePredictorOperator(modelPath, modelVersion, featureShape, maxBatchSize, maxBatchDelay.toMillis(), threads);
    }

    StreamPredictorOperator streamOperator() {
        return new StreamPredictorOperator("model", featureShape, maxBatchSize, maxBatchDelay.toMillis(), threads);
    }

    public static final class Builder {
        private final String modelPath;
        private final DataStream<ModelSnapshot> models;
        private final long[] featureShape;
        private int maxBatchSize = 256;
        private Duration maxBatchDelay = Duration.ofMillis(10);
        private int threads = 1;
        private long modelVersion = -1;

        private Builder(String modelPath, DataStream<ModelSnapshot> models, long[] featureShape) {
            if (featureShape.length == 0 || Arrays.stream(featureShape).anyMatch(d -> d < 1)) {
                throw new IllegalArgumentException("feature shape must have extents >= 1 but was " + Arrays.toString(featureShape));
            }
            this.modelPath = modelPath;
            this.models = models;
            this.featureShape = featureShape.clone();
        }

        /** The most samples in one batch (default 256). */
        public Builder maxBatchSize(int count) {
            check(count >= 1, "maxBatchSize must be >= 1 but was " + count);
            this.maxBatchSize = count;
            return this;
        }

        /** The longest a sample waits for its batch to fill (default 10 ms); zero scores each sample as it comes. */
        public Builder maxBatchDelay(Duration delay) {
            check(delay != null && !delay.isNegative(), "maxBatchDelay must be >= 0 but was " + delay);
            this.maxBatchDelay = delay;
            return this;
        }

        /** oneDNN threads per subtask (default 1: parallelism across subtasks serves throughput better). */
        public Builder threads(int count) {
            check(count >= 1, "threads must be >= 1 but was " + count);
            this.threads = count;
            return this;
        }

        /** The version a model file's predictions carry (default: its {@code training.version}, else 0); streamed models carry their own. */
        public Builder modelVersion(long version) {
            check(version >= 0, "modelVersion must be >= 0 but was " + version);
            this.modelVersion = version;
            return this;
        }

        /** Reads and checks a model file, and that the model takes the feature shape; a bad file fails here. */
        public Predictor build() {
            if (models != null) {
                check(modelVersion < 0, "modelVersion applies to a model file; streamed models carry their own version");
                return new Predictor(this);
            }
            Path path = new Path(modelPath);
            byte[] bytes;
            try {
                bytes = ModelChecks.readFile(modelPath);
            } catch (IOException e) {
                throw new IllegalArgumentException("model file " + modelPath + " cannot be read: " + e.getMessage(), e);
            }
            org.streamdl.dnn.model.ModelFile.Contents contents;
            try {
                contents = ModelBytes.read(bytes, path.getName(), Kernels.create(1, Kernels.Preference.REFERENCE));
            } catch (IOException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
            try (Model model = contents.model()) {
                ModelChecks.outputWidth(model, featureShape, "model file " + modelPath);
            }
            if (modelVersion < 0) {
                String trained = contents.provenance().get("training.version");
                try {
                    modelVersion = trained == null ? 0 : Long.parseLong(trained);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("model file " + modelPath + ": provenance training.version is '"
                            + trained + "', not a number");
                }
            }
            return new Predictor(this);
        }

        private static void check(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
