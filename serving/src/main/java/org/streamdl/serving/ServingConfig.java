package org.streamdl.serving;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

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

    static final String USAGE = String.join("\n",
            "serving job options:",
            "  --bootstrap-servers HOST:PORT[,...]   Kafka brokers (required)",
            "  --input-topic NAME                    Avro samples to score (required)",
            "  --predictions-topic NAME              Avro predictions, written exactly once (required)",
            "  --dead-letters-topic NAME             records that cannot be scored, with the reason (required)",
            "  --model PATH                          a StreamDL model file on any Flink file system (required)",
            "  --feature-shape D1,D2,...             one sample's float32 feature, e.g. 1,28,28 (required)",
            "  --classes N                           label classes the samples may carry (default 0: unlabelled)",
            "  --group-id NAME                       Kafka consumer group (default streamdl-serving)",
            "  --max-batch-size N                    samples per forward pass (default 256)",
            "  --max-batch-delay-ms N                longest a sample waits for its batch (default 10)",
            "  --parallelism N                       scoring subtasks (default: the environment's)",
            "  --threads N                           oneDNN threads per subtask (default 1)",
            "  --checkpoint-interval-ms N            how often output is committed (default 1000)",
            "  --stop-at-latest                      score what the input topic holds now, then stop");

    private static final List<String> REQUIRED = List.of("bootstrap-servers", "input-topic", "predictions-topic",
            "dead-letters-topic", "model", "feature-shape");
    private static final List<String> OPTIONAL = List.of("classes", "group-id", "max-batch-size", "max-batch-delay-ms",
            "parallelism", "threads", "checkpoint-interval-ms");

    public ServingConfig {
        featureShape = featureShape.clone();
    }

    /** Parses {@code --name value} options and the {@code --stop-at-latest} flag. */
    public static ServingConfig parse(String... args) {
        Map<String, String> values = new HashMap<>();
        boolean stopAtLatest = false;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + arg + "'; options start with --");
            }
            String name = arg.substring(2);
            if (name.equals("stop-at-latest")) {
                stopAtLatest = true;
                continue;
            }
            if (!REQUIRED.contains(name) && !OPTIONAL.contains(name)) {
                throw new IllegalArgumentException("unknown option --" + name);
            }
            if (i + 1 == args.length || args[i + 1].startsWith("--")) {
                throw new IllegalArgumentException("option --" + name + " needs a value");
            }
            if (values.put(name, args[++i]) != null) {
                throw new IllegalArgumentException("option --" + name + " is given twice");
            }
        }
        List<String> missing = new ArrayList<>();
        for (String name : REQUIRED) {
            if (!values.containsKey(name)) {
                missing.add("--" + name);
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("missing required option" + (missing.size() > 1 ? "s " : " ")
                    + String.join(", ", missing));
        }
        return new ServingConfig(values.get("bootstrap-servers"), values.get("input-topic"), values.get("predictions-topic"),
                values.get("dead-letters-topic"), values.getOrDefault("group-id", "streamdl-serving"), values.get("model"),
                shape(values.get("feature-shape")), integer(values, "classes", 0, 0),
                integer(values, "max-batch-size", 256, 1), Duration.ofMillis(integer(values, "max-batch-delay-ms", 10, 0)),
                integer(values, "parallelism", -1, 1), integer(values, "threads", 1, 1),
                Duration.ofMillis(integer(values, "checkpoint-interval-ms", 1000, 10)), stopAtLatest);
    }

    private static int integer(Map<String, String> values, String name, int fallback, int min) {
        String v = values.get(name);
        if (v == null) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < min) {
                throw new IllegalArgumentException("option --" + name + " must be >= " + min + " but was " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option --" + name + " must be a whole number but was '" + v + "'");
        }
    }

    private static long[] shape(String v) {
        try {
            long[] dims = Arrays.stream(v.split(",")).map(String::trim).mapToLong(Long::parseLong).toArray();
            if (dims.length == 0 || Arrays.stream(dims).anyMatch(d -> d < 1)) {
                throw new NumberFormatException();
            }
            return dims;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("option --feature-shape must be extents >= 1 separated by commas, such as "
                    + "1,28,28, but was '" + v + "'");
        }
    }
}
