package org.streamdl.serving;

import java.time.Duration;
import java.util.Arrays;
import org.apache.flink.configuration.ConfigOption;

/**
 * What the serving job reads, scores with and writes. Built from command-line options
 * ({@link #parse}); an unknown option, a missing required one or a bad value is refused with its
 * name before the job is built.
 *
 * @param featureShape    one sample's float32 feature, without the batch axis
 * @param classes         the label classes the input spec accepts (0: samples need no label)
 * @param stopAtLatest    score what the input topic holds when the job starts, then stop (backfills, tests)
 */
public record ServingConfig(String bootstrapServers, String inputTopic, String predictionsTopic, String deadLettersTopic,
                            String groupId, String modelPath, long[] featureShape, int classes, int maxBatchSize,
                            Duration maxBatchDelay, int parallelism, int threads, Duration checkpointInterval,
                            boolean stopAtLatest) {

    private static final JobOptions OPTIONS = new JobOptions("serving job");
    private static final ConfigOption<String> BOOTSTRAP_SERVERS =
            OPTIONS.requiredString("bootstrap-servers", "HOST:PORT[,...]", "Kafka brokers");
    private static final ConfigOption<String> INPUT_TOPIC =
            OPTIONS.requiredString("input-topic", "NAME", "Avro samples to score");
    private static final ConfigOption<String> PREDICTIONS_TOPIC =
            OPTIONS.requiredString("predictions-topic", "NAME", "Avro predictions, written exactly once");
    private static final ConfigOption<String> DEAD_LETTERS_TOPIC =
            OPTIONS.requiredString("dead-letters-topic", "NAME", "records that cannot be scored, with the reason");
    private static final ConfigOption<String> MODEL =
            OPTIONS.requiredString("model", "PATH", "a StreamDL model file on any Flink file system");
    private static final ConfigOption<String> FEATURE_SHAPE =
            OPTIONS.requiredString("feature-shape", "D1,D2,...", "one sample's float32 feature, e.g. 1,28,28");
    private static final ConfigOption<Integer> CLASSES =
            OPTIONS.integer("classes", "N", 0, "label classes the samples may carry (0: unlabelled)");
    private static final ConfigOption<String> GROUP_ID =
            OPTIONS.string("group-id", "NAME", "streamdl-serving", "Kafka consumer group");
    private static final ConfigOption<Integer> MAX_BATCH_SIZE =
            OPTIONS.integer("max-batch-size", "N", 256, "samples per forward pass");
    private static final ConfigOption<Integer> MAX_BATCH_DELAY_MS =
            OPTIONS.integer("max-batch-delay-ms", "N", 10, "longest a sample waits for its batch");
    private static final ConfigOption<Integer> PARALLELISM =
            OPTIONS.integer("parallelism", "N", null, "scoring subtasks (default: the environment's)");
    private static final ConfigOption<Integer> THREADS =
            OPTIONS.integer("threads", "N", 1, "oneDNN threads per subtask");
    private static final ConfigOption<Integer> CHECKPOINT_INTERVAL_MS =
            OPTIONS.integer("checkpoint-interval-ms", "N", 1000, "how often output is committed");
    private static final ConfigOption<Boolean> STOP_AT_LATEST =
            OPTIONS.flag("stop-at-latest", "score what the input topic holds now, then stop");

    static final String USAGE = OPTIONS.usage();

    public ServingConfig {
        featureShape = featureShape.clone();
    }

    /** Parses {@code --name value} options and the {@code --stop-at-latest} flag. */
    public static ServingConfig parse(String... args) {
        JobOptions.Values v = OPTIONS.parse(args);
        return new ServingConfig(v.get(BOOTSTRAP_SERVERS), v.get(INPUT_TOPIC), v.get(PREDICTIONS_TOPIC),
                v.get(DEAD_LETTERS_TOPIC), v.get(GROUP_ID), v.get(MODEL), shape(FEATURE_SHAPE, v.get(FEATURE_SHAPE)),
                v.atLeast(CLASSES, 0), v.atLeast(MAX_BATCH_SIZE, 1), Duration.ofMillis(v.atLeast(MAX_BATCH_DELAY_MS, 0)),
                v.has(PARALLELISM) ? v.atLeast(PARALLELISM, 1) : -1, v.atLeast(THREADS, 1),
                Duration.ofMillis(v.atLeast(CHECKPOINT_INTERVAL_MS, 10)), v.get(STOP_AT_LATEST));
    }

    /** Extents >= 1 separated by commas, or an error naming {@code option}. */
    static long[] shape(ConfigOption<String> option, String v) {
        try {
            long[] dims = Arrays.stream(v.split(",")).map(String::trim).mapToLong(Long::parseLong).toArray();
            if (dims.length == 0 || Arrays.stream(dims).anyMatch(d -> d < 1)) {
                throw new NumberFormatException();
            }
            return dims;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option --" + option.key() + " must be extents >= 1 separated by commas, "
                    + "such as 1,28,28, but was '" + v + "'");
        }
    }
}
