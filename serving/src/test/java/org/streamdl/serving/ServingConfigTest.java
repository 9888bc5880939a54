package org.streamdl.serving;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ServingConfigTest {
    private static final String[] REQUIRED = {"--bootstrap-servers", "localhost:9092", "--input-topic", "in",
            "--predictions-topic", "out", "--dead-letters-topic", "dead", "--model", "/models/m.sdlm",
            "--feature-shape", "1,28,28"};

    private static String[] with(String... more) {
        List<String> all = new ArrayList<>(Arrays.asList(REQUIRED));
        all.addAll(Arrays.asList(more));
        return all.toArray(new String[0]);
    }

    @Test
    void theRequiredOptionsAndSaneDefaults() {
        ServingConfig c = ServingConfig.parse(REQUIRED);
        assertEquals("localhost:9092", c.bootstrapServers());
        assertArrayEquals(new long[] {1, 28, 28}, c.featureShape());
        assertEquals(256, c.maxBatchSize());
        assertEquals(Duration.ofMillis(10), c.maxBatchDelay());
        assertEquals(Duration.ofSeconds(1), c.checkpointInterval());
        assertEquals("streamdl-serving", c.groupId());
        assertEquals(0, c.classes());
        assertFalse(c.stopAtLatest());
        ServingConfig d = ServingConfig.parse(with("--max-batch-size", "64", "--max-batch-delay-ms", "0", "--classes", "10",
                "--stop-at-latest", "--parallelism", "4"));
        assertEquals(64, d.maxBatchSize());
        assertEquals(Duration.ZERO, d.maxBatchDelay());
        assertEquals(10, d.classes());
        assertEquals(4, d.parallelism());
        assertTrue(d.stopAtLatest());
    }

    @Test
    void badOptionsAreRefusedByName() {
        assertEquals("missing required options --model, --feature-shape", message("--bootstrap-servers", "b",
                "--input-topic", "in", "--predictions-topic", "out", "--dead-letters-topic", "dead"));
        assertEquals("unknown option --modle", message(with("--modle", "x")));
        assertEquals("option --max-batch-size must be a whole number but was 'lots'", message(with("--max-batch-size", "lots")));
        assertEquals("option --max-batch-size must be >= 1 but was 0", message(with("--max-batch-size", "0")));
        assertTrue(message(with("--feature-shape", "1,x")).contains("twice"));
        assertTrue(message("--bootstrap-servers", "b", "--model", "m", "--feature-shape", "1,0,28", "--input-topic", "i",
                "--predictions-topic", "p", "--dead-letters-topic", "d").startsWith("option --feature-shape must be extents"));
        assertEquals("option --classes needs a value", message(with("--classes")));
        assertEquals("unexpected argument 'oops'; options start with --", message(with("oops")));
    }

    private static String message(String... args) {
        return assertThrows(IllegalArgumentException.class, () -> ServingConfig.parse(args)).getMessage();
    }
}
