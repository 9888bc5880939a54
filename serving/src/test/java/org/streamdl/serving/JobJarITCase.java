package org.streamdl.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The job JAR for {@code flink run} (built in {@code package}, so checked in {@code verify}): it
 * starts the serving job and carries StreamDL, the Kafka connector and oneDNN, and nothing a Flink
 * installation already has, which would clash with it.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)   // a stalled job fails here instead of hanging the build
class JobJarITCase {
    @Test
    void theJobJarCarriesWhatTheClusterLacksAndNothingItHas() throws Exception {
        Path jar = Path.of("target", "streamdl-serving.jar");
        assertTrue(Files.isRegularFile(jar), jar.toAbsolutePath() + " was not built");
        try (JarFile j = new JarFile(jar.toFile())) {
            assertEquals(ServingJob.class.getName(), j.getManifest().getMainAttributes().getValue("Main-Class"));
            for (String wanted : List.of("org/streamdl/serving/ServingJob.class",
                    "org/streamdl/flink/inference/Predictor.class",
                    "org/apache/flink/connector/kafka/sink/KafkaSink.class",
                    "org/bytedeco/dnnl/linux-x86_64/libdnnl.so.3")) {
                assertNotNull(j.getEntry(wanted), "missing " + wanted);
            }
            for (String prefix : List.of("org/apache/flink/streaming/api/", "org/apache/flink/runtime/",
                    "org/apache/flink/api/common/", "org/slf4j/", "org/apache/logging/log4j/")) {
                assertTrue(j.stream().noneMatch(e -> e.getName().startsWith(prefix)), "the cluster provides " + prefix);
            }
        }
    }
}
