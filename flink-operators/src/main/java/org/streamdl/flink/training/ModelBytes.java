package org.streamdl.flink.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;

/**
 * Model files as bytes, for {@link org.streamdl.flink.connector.records.ModelSnapshot}. The engine's
 * reader checks a file against its length before allocating, so reading passes the bytes through a
 * temporary file that is deleted at once.
 */
public final class ModelBytes {
    private ModelBytes() {}

    public static byte[] of(Model model, Map<String, String> provenance) throws IOException {
        return ModelFile.toBytes(model, Map.of(), provenance);
    }

    /** Reads a model file's bytes; a bad file is refused with {@code name} in the message. */
    public static ModelFile.Contents read(byte[] bytes, String name, Kernels kernels) throws IOException {
        Path dir = Files.createTempDirectory("streamdl-snapshot");
        Path file = dir.resolve(name.replaceAll("[^A-Za-z0-9._-]", "_") + ".sdlm");
        try {
            Files.write(file, bytes);
            return ModelFile.read(file, kernels);
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(dir);
        }
    }
}
