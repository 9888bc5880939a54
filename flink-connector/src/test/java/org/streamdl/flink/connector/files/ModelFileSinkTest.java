package org.streamdl.flink.connector.files;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.flink.connector.records.ModelSnapshot;

class ModelFileSinkTest {
    @TempDir
    Path dir;

    @Test
    void writesOneFilePerVersionAndAVersionWrittenAgainReplacesIt() throws Exception {
        Path models = dir.resolve("models");
        try (SinkWriter<ModelSnapshot> w = ModelFileSink.to(models.toUri().toString()).writer(0)) {
            w.write(new ModelSnapshot("lenet/5", 7, 896, 1L, new byte[] {1, 2, 3}), null);
            w.write(new ModelSnapshot("lenet/5", 12, 1536, 2L, new byte[] {4, 5}), null);
            w.write(new ModelSnapshot("lenet/5", 7, 896, 3L, new byte[] {1, 2, 3}), null);   // replayed after a restore
        }
        List<String> names;
        try (Stream<Path> files = Files.list(models)) {
            names = files.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(List.of("lenet_5-v000000000007.sdlm", "lenet_5-v000000000012.sdlm"), names);   // no temporaries left
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(models.resolve("lenet_5-v000000000007.sdlm")));
        assertArrayEquals(new byte[] {4, 5}, Files.readAllBytes(models.resolve("lenet_5-v000000000012.sdlm")));
    }
}
