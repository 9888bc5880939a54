package org.streamdl.dnn.fuzz;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.model.ModelFormatException;
import org.streamdl.dnn.onnx.OnnxFormatException;
import org.streamdl.dnn.onnx.OnnxImporter;
import org.streamdl.dnn.onnx.OnnxModel;
import org.streamdl.dnn.onnx.OnnxReader;

/**
 * Mutated model files and ONNX files are either read or refused with the format's own exception:
 * never another exception, never an out-of-memory error. Every build runs a short campaign;
 * maintainers run a long one with {@code ./mvnw -pl engine-dnn test -Dtest=LoaderFuzzTest
 * -Dstreamdl.fuzz.iterations=200000} (and {@code -Dstreamdl.fuzz.seed=S} to replay a case).
 */
class LoaderFuzzTest {
    @TempDir
    Path dir;

    private static byte[] resource(String path) throws IOException {
        try (InputStream in = LoaderFuzzTest.class.getResourceAsStream(path)) {
            return in.readAllBytes();
        }
    }

    @Test
    void mutatedModelFilesAreReadOrRefused() throws IOException {
        byte[] valid = resource("/org/streamdl/dnn/model/v1/tiny-mlp.sdlm");
        Path file = dir.resolve("mutant.sdlm");
        long first = Mutator.firstSeed();
        for (long seed = first; seed < first + Mutator.iterations(); seed++) {
            Files.write(file, Mutator.mutate(valid, seed));
            try (Kernels kernels = Kernels.create(1, Kernels.Preference.REFERENCE)) {
                ModelFile.Contents contents = ModelFile.read(file, kernels);
                contents.model().allocator().close();
            } catch (ModelFormatException expected) {
                // refused with a reason: what a bad file must get
            } catch (Throwable t) {
                fail("model file mutant of seed " + seed + " broke the reader: " + t, t);
            }
        }
    }

    @Test
    void mutatedOnnxFilesAreReadOrRefused() throws IOException {
        byte[] valid = resource("/org/streamdl/dnn/reference/mlp_int8_qdq.onnx");
        long first = Mutator.firstSeed();
        // importing builds a 535k-parameter model each time: a third of the iterations keeps the build short
        for (long seed = first; seed < first + Math.max(1, Mutator.iterations() / 3); seed++) {
            byte[] mutant = Mutator.mutate(valid, seed);
            try {
                OnnxModel onnx = OnnxReader.read(mutant, "mutant.onnx");
                try (Model model = OnnxImporter.importModel(onnx, "mutant.onnx", Kernels.create(1, Kernels.Preference.REFERENCE))) {
                    model.parameterCount();
                }
            } catch (OnnxFormatException expected) {
                // refused with a reason
            } catch (Throwable t) {
                fail("ONNX mutant of seed " + seed + " broke the reader: " + t, t);
            }
        }
    }
}
