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

    /** Every mutant of {@code valid} is read or refused with a {@link ModelFormatException}, never anything else. */
    private void assertModelFileMutantsReadOrRefused(byte[] valid, long iterations, String what) throws IOException {
        Path file = dir.resolve("mutant.sdlm");
        long first = Mutator.firstSeed();
        for (long seed = first; seed < first + iterations; seed++) {
            Files.write(file, Mutator.mutate(valid, seed));
            try (Kernels kernels = Kernels.create(1, Kernels.Preference.REFERENCE)) {
                ModelFile.read(file, kernels).model().close();
            } catch (ModelFormatException expected) {
                // refused with a reason: what a bad file must get
            } catch (Throwable t) {
                fail(what + " mutant of seed " + seed + " broke the reader: " + t, t);
            }
        }
    }

    /** Every mutant of {@code valid} is imported or refused with an {@link OnnxFormatException}, never anything else. */
    private static void assertOnnxMutantsImportedOrRefused(byte[] valid, long iterations, String what) {
        long first = Mutator.firstSeed();
        for (long seed = first; seed < first + iterations; seed++) {
            byte[] mutant = Mutator.mutate(valid, seed);
            try {
                OnnxModel onnx = OnnxReader.read(mutant, "mutant.onnx");
                try (Model model = OnnxImporter.importModel(onnx, "mutant.onnx", Kernels.create(1, Kernels.Preference.REFERENCE))) {
                    model.parameterCount();
                }
            } catch (OnnxFormatException expected) {
                // refused with a reason
            } catch (Throwable t) {
                fail(what + " mutant of seed " + seed + " broke the reader: " + t, t);
            }
        }
    }

    @Test
    void mutatedModelFilesAreReadOrRefused() throws IOException {
        assertModelFileMutantsReadOrRefused(resource("/org/streamdl/dnn/model/v1/tiny-mlp.sdlm"), Mutator.iterations(),
                "model file");
    }

    @Test
    void mutatedOnnxFilesAreReadOrRefused() throws IOException {
        // importing builds a 535k-parameter model each time: a third of the iterations keeps the build short
        assertOnnxMutantsImportedOrRefused(resource("/org/streamdl/dnn/reference/mlp_int8_qdq.onnx"),
                Math.max(1, Mutator.iterations() / 3), "ONNX");
    }

    /** An int8 LeNet-5 (QuantizedConv2d and QuantizedLinear layers with their geometry and scales in the header). */
    @Test
    void mutatedInt8ModelFilesAreReadOrRefused() throws IOException {
        Path validFile = dir.resolve("lenet5-int8.sdlm");
        try (Model fp32 = org.streamdl.dnn.model.Models.lenet5(1, Kernels.create(1, Kernels.Preference.REFERENCE));
             org.streamdl.tensor.Allocator a = org.streamdl.tensor.Allocator.root("fuzz", 64L << 20)) {
            org.streamdl.dnn.testing.ReferenceData.loadWeights(fp32, "lenet5-weights");
            org.streamdl.dnn.quantize.Quantizer.Quantized q = org.streamdl.dnn.quantize.Quantizer.quantize(fp32,
                    java.util.List.of(org.streamdl.dnn.testing.ReferenceData.images(a).narrow(0, 0, 16)),
                    org.streamdl.dnn.quantize.Quantizer.Calibration.MAX_ABS, 100, Kernels.create(1, Kernels.Preference.REFERENCE));
            try (Model int8 = q.model()) {
                ModelFile.write(validFile, int8, java.util.Map.of());
            }
        }
        assertModelFileMutantsReadOrRefused(Files.readAllBytes(validFile), Math.max(1, Mutator.iterations() / 3),
                "int8 model file");
    }

    /** The QDQ LeNet-5: int8 convolution weights per channel, the pattern matching of the int8 import. */
    @Test
    void mutatedQdqConvolutionalOnnxFilesAreReadOrRefused() throws IOException {
        assertOnnxMutantsImportedOrRefused(resource("/org/streamdl/dnn/onnx/lenet5_int8_qdq.onnx"),
                Math.max(1, Mutator.iterations() / 3), "QDQ ONNX");
    }
}
