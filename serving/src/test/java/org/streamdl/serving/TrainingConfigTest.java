package org.streamdl.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class TrainingConfigTest {
    private static final String[] KAFKA = {"--bootstrap-servers", "localhost:9092", "--input-topic", "samples",
            "--dead-letters-topic", "dead", "--architecture", "lenet5", "--model-dir", "/models"};

    private static String[] with(String[] base, String... more) {
        List<String> all = new ArrayList<>(Arrays.asList(base));
        all.addAll(Arrays.asList(more));
        return all.toArray(new String[0]);
    }

    @Test
    void kafkaInputWithDefaults() {
        TrainingConfig c = TrainingConfig.parse(KAFKA);
        assertEquals("samples", c.inputTopic());
        assertEquals("lenet5", c.modelName());
        assertArrayEquals(new long[] {1, 28, 28}, c.featureShape());
        assertEquals("sgd", c.optimizer());
        assertEquals(0.01, c.learningRate());
        assertEquals(128, c.globalBatchSize());
        assertEquals(-1, c.parallelism());
        assertEquals(1000, c.snapshotEverySteps());
        assertEquals(Duration.ZERO, c.snapshotEvery());
        assertEquals(Duration.ofSeconds(2), c.checkpointInterval());
        assertFalse(c.stopAtLatest());
        assertNull(c.modelsTopic());
        assertEquals("samples", c.options().get("input-topic"));
    }

    @Test
    void filesAndAModelFile() {
        TrainingConfig c = TrainingConfig.parse("--idx-images", "i.gz", "--idx-labels", "l.gz", "--epochs", "3",
                "--model", "/m/start.onnx", "--feature-shape", "784", "--optimizer", "adam", "--parallelism", "2",
                "--snapshot-every-seconds", "30", "--models-topic", "models", "--bootstrap-servers", "b:1");
        assertEquals(3, c.epochs());
        assertEquals("start", c.modelName());
        assertArrayEquals(new long[] {784}, c.featureShape());
        assertEquals(0.001, c.learningRate());
        assertEquals(2, c.parallelism());
        assertEquals(Duration.ofSeconds(30), c.snapshotEvery());
        TrainingConfig kafka = TrainingConfig.parse(with(KAFKA, "--stop-at-latest", "--epochs", "2"));
        assertTrue(kafka.stopAtLatest());
        assertEquals(2, kafka.epochs());
    }

    @Test
    void optionsThatDoNotGoTogetherAreRefusedByName() {
        assertEquals("give exactly one input: --input-topic, --idx-images with --idx-labels, or --csv",
                message(with(KAFKA, "--csv", "x.csv")));
        assertEquals("option --epochs 3 needs bounded input: files, or --stop-at-latest", message(with(KAFKA, "--epochs", "3")));
        assertEquals("give exactly one of --model FILE and --architecture lenet5|mlp", message(with(KAFKA, "--model", "m.sdlm")));
        assertEquals("option --architecture must be lenet5 or mlp but was 'resnet'",
                message("--csv", "x.csv", "--architecture", "resnet", "--model-dir", "d"));
        assertEquals("option --model needs --feature-shape", message("--csv", "x.csv", "--model", "m.sdlm", "--model-dir", "d"));
        assertEquals("option --input-topic needs --dead-letters-topic", message("--bootstrap-servers", "b:1", "--input-topic",
                "t", "--architecture", "mlp", "--model-dir", "d"));
        assertEquals("give where the models go: --model-dir, --models-topic or both",
                message("--csv", "x.csv", "--architecture", "mlp"));
        assertEquals("option --models-topic needs --bootstrap-servers",
                message("--csv", "x.csv", "--architecture", "mlp", "--models-topic", "m"));
        assertEquals("option --momentum is sgd's; adam has its own moments",
                message(with(KAFKA, "--optimizer", "adam", "--momentum", "0.9")));
        assertEquals("option --momentum must be in [0, 1) but was 1.5", message(with(KAFKA, "--momentum", "1.5")));
        assertEquals("option --learning-rate must be a number but was 'fast'", message(with(KAFKA, "--learning-rate", "fast")));
        assertEquals("option --global-batch-size must be >= 1 but was 0", message(with(KAFKA, "--global-batch-size", "0")));
        assertEquals("option --stop-at-latest takes no value but was given 'yes'", message(with(KAFKA, "--stop-at-latest", "yes")));
        assertEquals("unknown option --learning_rate", message(with(KAFKA, "--learning_rate", "0.1")));
        assertEquals("option --seed is given twice", message(with(KAFKA, "--seed", "1", "--seed", "2")));
    }

    @Test
    void theUsageListsEveryOptionWithItsDefault() {
        assertTrue(TrainingConfig.USAGE.contains("--global-batch-size N"), TrainingConfig.USAGE);
        assertTrue(TrainingConfig.USAGE.contains("(default 128)"), TrainingConfig.USAGE);
        assertTrue(ServingConfig.USAGE.contains("--input-topic NAME") && ServingConfig.USAGE.contains("(required)"),
                ServingConfig.USAGE);
    }

    private static String message(String... args) {
        return assertThrows(IllegalArgumentException.class, () -> TrainingConfig.parse(args)).getMessage();
    }
}
