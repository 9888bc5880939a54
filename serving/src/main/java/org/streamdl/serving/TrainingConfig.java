package org.streamdl.serving;

import java.time.Duration;
import java.util.Map;
import org.apache.flink.configuration.ConfigOption;

/**
 * What the training job reads, trains and writes. Built from command-line options ({@link #parse});
 * an unknown option, a missing one, a bad value or options that do not go together are refused by
 * name before the job is built.
 *
 * @param inputTopic     Avro samples from Kafka (exactly one of inputTopic, idxImages, csvFile is set)
 * @param stopAtLatest   train on what the input topic holds when the job starts, then stop
 * @param modelPath      a StreamDL model file or a float ONNX model to start from (or architecture is set)
 * @param featureShape   one sample's float32 feature, without the batch axis
 * @param modelDir       where each snapshot becomes a model file of its own (or null)
 * @param modelsTopic    where each snapshot becomes a ModelSnapshot record, exactly once (or null)
 * @param options        the options as given, which every snapshot's provenance carries
 */
public record TrainingConfig(String bootstrapServers, String inputTopic, String groupId, boolean stopAtLatest,
                             String idxImages, String idxLabels, String csvFile, boolean csvSkipHeader, int epochs,
                             String deadLettersTopic, String modelPath, String architecture, long seed,
                             long[] featureShape, int classes, String loss, String optimizer, double learningRate,
                             double momentum, int globalBatchSize, int parallelism, int maxStaleness, int threads,
                             Duration maxBatchDelay, long snapshotEverySteps, Duration snapshotEvery, String modelDir,
                             String modelsTopic, Duration checkpointInterval, Map<String, String> options) {

    private static final JobOptions OPTIONS = new JobOptions("training job");
    private static final ConfigOption<String> BOOTSTRAP_SERVERS = OPTIONS.string("bootstrap-servers", "HOST:PORT[,...]",
            null, "Kafka brokers (for --input-topic, --dead-letters-topic, --models-topic)");
    private static final ConfigOption<String> INPUT_TOPIC =
            OPTIONS.string("input-topic", "NAME", null, "Avro samples to train on");
    private static final ConfigOption<String> GROUP_ID =
            OPTIONS.string("group-id", "NAME", "streamdl-training", "Kafka consumer group");
    private static final ConfigOption<Boolean> STOP_AT_LATEST =
            OPTIONS.flag("stop-at-latest", "train on what the input topic holds now, then stop");
    private static final ConfigOption<String> IDX_IMAGES =
            OPTIONS.string("idx-images", "FILE", null, "IDX images, such as train-images-idx3-ubyte.gz");
    private static final ConfigOption<String> IDX_LABELS =
            OPTIONS.string("idx-labels", "FILE", null, "the IDX labels that go with --idx-images");
    private static final ConfigOption<String> CSV =
            OPTIONS.string("csv", "FILE", null, "numeric CSV, the class label last");
    private static final ConfigOption<Boolean> CSV_SKIP_HEADER =
            OPTIONS.flag("csv-skip-header", "the CSV file's first line is a header");
    private static final ConfigOption<Integer> EPOCHS =
            OPTIONS.integer("epochs", "N", 1, "passes over bounded input (files, or a topic with --stop-at-latest)");
    private static final ConfigOption<String> DEAD_LETTERS_TOPIC = OPTIONS.string("dead-letters-topic", "NAME", null,
            "records that do not decode, with the reason (required with --input-topic; else they are logged)");
    private static final ConfigOption<String> MODEL = OPTIONS.string("model", "FILE", null,
            "a StreamDL model file or a float ONNX model (.onnx) to start from");
    private static final ConfigOption<String> ARCHITECTURE =
            OPTIONS.string("architecture", "lenet5|mlp", null, "a new network instead of --model");
    private static final ConfigOption<Long> SEED =
            OPTIONS.longInteger("seed", "N", 42, "initial weights of --architecture, and the shuffles of later epochs");
    private static final ConfigOption<String> FEATURE_SHAPE = OPTIONS.string("feature-shape", "D1,D2,...", null,
            "one sample's float32 feature (default 1,28,28 for --architecture; required with --model)");
    private static final ConfigOption<Integer> CLASSES = OPTIONS.integer("classes", "N", 10, "label classes");
    private static final ConfigOption<String> LOSS =
            OPTIONS.string("loss", "cross-entropy|nll", "cross-entropy", "softmax cross-entropy on logits, "
                    + "or negative log-likelihood on log-probabilities");
    private static final ConfigOption<String> OPTIMIZER = OPTIONS.string("optimizer", "sgd|adam", "sgd", "the optimizer");
    private static final ConfigOption<Double> LEARNING_RATE =
            OPTIONS.number("learning-rate", "X", null, "step size (default 0.01 for sgd, 0.001 for adam)");
    private static final ConfigOption<Double> MOMENTUM = OPTIONS.number("momentum", "X", 0.0, "sgd's momentum, in [0, 1)");
    private static final ConfigOption<Integer> GLOBAL_BATCH_SIZE =
            OPTIONS.integer("global-batch-size", "N", 128, "samples per update, summed over the workers");
    private static final ConfigOption<Integer> PARALLELISM =
            OPTIONS.integer("parallelism", "N", null, "workers (default: the environment's parallelism)");
    private static final ConfigOption<Integer> MAX_STALENESS =
            OPTIONS.integer("max-staleness", "N", 0, "steps a worker may run ahead of its weights (0: synchronous)");
    private static final ConfigOption<Integer> THREADS = OPTIONS.integer("threads", "N", 1, "oneDNN threads per worker");
    private static final ConfigOption<Integer> MAX_BATCH_DELAY_MS = OPTIONS.integer("max-batch-delay-ms", "N", 1000,
            "longest a worker waits to fill its share of a batch (0: full batches only)");
    private static final ConfigOption<Long> SNAPSHOT_EVERY_STEPS =
            OPTIONS.longInteger("snapshot-every-steps", "N", 1000, "a snapshot every N updates (0: none by count)");
    private static final ConfigOption<Long> SNAPSHOT_EVERY_SECONDS =
            OPTIONS.longInteger("snapshot-every-seconds", "T", 0, "a snapshot every T seconds (0: none by time)");
    private static final ConfigOption<String> MODEL_DIR = OPTIONS.string("model-dir", "DIR", null,
            "a model file per snapshot, written atomically, on any Flink file system");
    private static final ConfigOption<String> MODELS_TOPIC =
            OPTIONS.string("models-topic", "NAME", null, "an Avro ModelSnapshot record per snapshot, exactly once");
    private static final ConfigOption<Integer> CHECKPOINT_INTERVAL_MS = OPTIONS.integer("checkpoint-interval-ms", "N",
            2000, "how often the job checkpoints and commits its Kafka output");

    static final String USAGE = OPTIONS.usage();

    public TrainingConfig {
        featureShape = featureShape.clone();
        options = Map.copyOf(options);
    }

    /** Parses the options; see {@link #USAGE}. */
    public static TrainingConfig parse(String... args) {
        JobOptions.Values v = OPTIONS.parse(args);
        int inputs = (v.has(INPUT_TOPIC) ? 1 : 0) + (v.has(IDX_IMAGES) ? 1 : 0) + (v.has(CSV) ? 1 : 0);
        refuse(inputs != 1, "give exactly one input: --input-topic, --idx-images with --idx-labels, or --csv");
        refuse(v.has(IDX_IMAGES) != v.has(IDX_LABELS), "options --idx-images and --idx-labels go together");
        refuse(v.has(CSV_SKIP_HEADER) && !v.has(CSV), "option --csv-skip-header needs --csv");
        refuse(v.has(INPUT_TOPIC) && !v.has(BOOTSTRAP_SERVERS), "option --input-topic needs --bootstrap-servers");
        refuse(v.has(INPUT_TOPIC) && !v.has(DEAD_LETTERS_TOPIC), "option --input-topic needs --dead-letters-topic");
        refuse(v.has(STOP_AT_LATEST) && !v.has(INPUT_TOPIC), "option --stop-at-latest needs --input-topic");
        boolean bounded = !v.has(INPUT_TOPIC) || v.get(STOP_AT_LATEST);
        int epochs = v.atLeast(EPOCHS, 1);
        refuse(epochs > 1 && !bounded, "option --epochs %s needs bounded input: files, or --stop-at-latest", epochs);
        refuse(v.has(DEAD_LETTERS_TOPIC) && !v.has(BOOTSTRAP_SERVERS), "option --dead-letters-topic needs --bootstrap-servers");
        refuse(v.has(MODELS_TOPIC) && !v.has(BOOTSTRAP_SERVERS), "option --models-topic needs --bootstrap-servers");
        refuse(!v.has(MODEL_DIR) && !v.has(MODELS_TOPIC), "give where the models go: --model-dir, --models-topic or both");

        refuse(v.has(MODEL) == v.has(ARCHITECTURE), "give exactly one of --model FILE and --architecture lenet5|mlp");
        String architecture = v.get(ARCHITECTURE);
        refuse(architecture != null && !architecture.equals("lenet5") && !architecture.equals("mlp"),
                "option --architecture must be lenet5 or mlp but was '%s'", architecture);
        refuse(v.has(MODEL) && !v.has(FEATURE_SHAPE), "option --model needs --feature-shape");
        long[] shape = v.has(FEATURE_SHAPE) ? ServingConfig.shape(FEATURE_SHAPE, v.get(FEATURE_SHAPE)) : new long[] {1, 28, 28};

        String loss = v.get(LOSS);
        refuse(!loss.equals("cross-entropy") && !loss.equals("nll"), "option --loss must be cross-entropy or nll but was '%s'", loss);
        String optimizer = v.get(OPTIMIZER);
        refuse(!optimizer.equals("sgd") && !optimizer.equals("adam"), "option --optimizer must be sgd or adam but was '%s'", optimizer);
        double learningRate = v.has(LEARNING_RATE) ? v.get(LEARNING_RATE) : optimizer.equals("sgd") ? 0.01 : 0.001;
        refuse(!(learningRate > 0), "option --learning-rate must be > 0 but was %s", learningRate);
        double momentum = v.get(MOMENTUM);
        refuse(!(momentum >= 0 && momentum < 1), "option --momentum must be in [0, 1) but was %s", momentum);
        refuse(v.has(MOMENTUM) && optimizer.equals("adam"), "option --momentum is sgd's; adam has its own moments");

        return new TrainingConfig(v.get(BOOTSTRAP_SERVERS), v.get(INPUT_TOPIC), v.get(GROUP_ID), v.get(STOP_AT_LATEST),
                v.get(IDX_IMAGES), v.get(IDX_LABELS), v.get(CSV), v.get(CSV_SKIP_HEADER), epochs, v.get(DEAD_LETTERS_TOPIC),
                v.get(MODEL), architecture, v.get(SEED), shape, v.atLeast(CLASSES, 2), loss, optimizer, learningRate,
                momentum, v.atLeast(GLOBAL_BATCH_SIZE, 1), v.has(PARALLELISM) ? v.atLeast(PARALLELISM, 1) : -1,
                v.atLeast(MAX_STALENESS, 0), v.atLeast(THREADS, 1), Duration.ofMillis(v.atLeast(MAX_BATCH_DELAY_MS, 0)),
                v.atLeast(SNAPSHOT_EVERY_STEPS, 0L), Duration.ofSeconds(v.atLeast(SNAPSHOT_EVERY_SECONDS, 0L)),
                v.get(MODEL_DIR), v.get(MODELS_TOPIC), Duration.ofMillis(v.atLeast(CHECKPOINT_INTERVAL_MS, 10)),
                v.asGiven());
    }

    /** The name snapshots carry: the architecture, or the model file's name without its extension. */
    public String modelName() {
        if (architecture != null) {
            return architecture;
        }
        String file = modelPath.substring(modelPath.lastIndexOf('/') + 1);
        int dot = file.lastIndexOf('.');
        return dot > 0 ? file.substring(0, dot) : file;
    }

    private static void refuse(boolean condition, String template, Object... args) {
        if (condition) {
            throw new IllegalArgumentException(String.format(template, args));
        }
    }
}
