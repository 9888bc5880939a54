package org.streamdl.dnn.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.layers.Linear;
import org.streamdl.dnn.layers.Relu;
import org.streamdl.dnn.layers.Sequential;
import org.streamdl.dnn.testing.ReferenceData;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;
import org.streamdl.tensor.ops.Elementwise;

class ModelFileTest {
    @TempDir
    Path dir;

    private static Kernels kernels() {
        return Kernels.create(1, Kernels.Preference.REFERENCE);
    }

    @Test
    void roundTripsATrainedLenetWithItsLogits() throws IOException {
        Path file = dir.resolve("lenet.sdlm");
        try (Model model = Models.lenet5(1, kernels()); Allocator a = Allocator.root("test", 64L << 20)) {
            ReferenceData.loadWeights(model, "lenet5-weights");
            ModelFile.write(file, model, Map.of("seed", "42", "data", "fashion-mnist"));
            Tensor expected = model.predict(ReferenceData.images(a), a);
            ModelFile.Contents read = ModelFile.read(file, kernels());
            try (Model copy = read.model()) {
                assertEquals(Map.of("seed", "42", "data", "fashion-mnist"), read.provenance());
                assertArrayEquals(Convert.toFloatArray(expected), Convert.toFloatArray(copy.predict(ReferenceData.images(a), a)));
                assertEquals(model.network().config(), copy.network().config());
            }
        }
        assertTrue(Files.notExists(dir.resolve("lenet.sdlm.tmp")));
    }

    @Test
    void bytesAreExactlyTheFileContents() throws IOException {
        Path file = dir.resolve("mlp.sdlm");
        try (Model model = Models.mlp(3, kernels())) {
            Tensor momentum = Convert.fromFloats(new float[] {1, 2, 3}, Shape.of(3), model.allocator());
            ModelFile.write(file, model, Map.of("fc1.weight.momentum_buffer", momentum), Map.of("version", "7"));
            byte[] bytes = ModelFile.toBytes(model, Map.of("fc1.weight.momentum_buffer", momentum), Map.of("version", "7"));
            assertArrayEquals(Files.readAllBytes(file), bytes);
        }
    }

    @Test
    void keepsOptimizerStateForResuming() throws IOException {
        Path file = dir.resolve("checkpoint.sdlm");
        try (Model model = Models.mlp(2, kernels())) {
            Tensor momentum = Convert.fromFloats(new float[] {1, 2, 3}, Shape.of(3), model.allocator());
            ModelFile.write(file, model, Map.of("fc1.weight.momentum_buffer", momentum), Map.of());
        }
        ModelFile.Contents read = ModelFile.read(file, kernels());
        try (Model model = read.model()) {
            assertArrayEquals(new float[] {1, 2, 3}, Convert.toFloatArray(read.optimizerState().get("fc1.weight.momentum_buffer")));
        }
    }

    /** Format version 1's golden file: written once, never regenerated; every later reader must read it. */
    @Test
    void readsTheReleasedVersionOneFile() throws IOException {
        Path file = dir.resolve("tiny-v1.sdlm");
        try (InputStream in = getClass().getResourceAsStream("/org/streamdl/dnn/model/v1/tiny-mlp.sdlm")) {
            Files.copy(in, file);
        }
        ModelFile.Contents read = ModelFile.read(file, kernels());
        try (Model model = read.model(); Allocator a = Allocator.root("test", 1 << 20)) {
            assertEquals("v1 golden", read.provenance().get("purpose"));
            Tensor y = model.predict(Convert.fromFloats(new float[] {1, -1, 0.5f, 2}, Shape.of(1, 4), a), a);
            // fc1 = [[1,0,0,0],[0,1,0,0],[0,0,1,1]] + [0, 0, -1]; relu; fc2 = [[1,1,1],[1,-1,2]] + [0.5, 0]
            // h = relu([1, -1, 1.5]) = [1, 0, 1.5]; y = [3, 4]
            assertArrayEquals(new float[] {3f, 4f}, Convert.toFloatArray(y));
        }
    }

    /** Writes the version-1 golden file; kept to document how it was made, not run by the build. */
    static void writeGoldenVersionOne(Path target) throws IOException {
        try (Allocator allocator = Allocator.root("tiny-mlp", 1 << 20)) {
            ParameterFactory p = new ParameterFactory(allocator, 0);
            Sequential net = Sequential.of("tiny-mlp", new Linear(p, "fc1", 4, 3), new Relu("relu"), new Linear(p, "fc2", 3, 2));
            Model model = new Model(net, allocator, kernels());
            model.load("fc1.weight", Convert.fromFloats(new float[] {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1}, Shape.of(3, 4), allocator));
            model.load("fc1.bias", Convert.fromFloats(new float[] {0, 0, -1}, Shape.of(3), allocator));
            model.load("fc2.weight", Convert.fromFloats(new float[] {1, 1, 1, 1, -1, 2}, Shape.of(2, 3), allocator));
            model.load("fc2.bias", Convert.fromFloats(new float[] {0.5f, 0}, Shape.of(2), allocator));
            ModelFile.write(target, model, Map.of("purpose", "v1 golden"));
            model.kernels().close();
        }
    }

    private Path validFile() throws IOException {
        Path file = dir.resolve("valid.sdlm");
        try (Model model = Models.mlp(3, kernels())) {
            ModelFile.write(file, model, Map.of());
        }
        return file;
    }

    private String refusal(Path file) {
        return assertThrows(ModelFormatException.class, () -> ModelFile.read(file, kernels())).getMessage();
    }

    @Test
    void refusesWrongMagicAndFutureVersions() throws IOException {
        Path file = validFile();
        byte[] bytes = Files.readAllBytes(file);
        bytes[0] = 'X';
        Files.write(file, bytes);
        assertEquals(file + ": is not a StreamDL model file (magic 58444c4d, expected 53444c4d \"SDLM\")", refusal(file));
        bytes[0] = 'S';
        bytes[4] = 3;
        Files.write(file, bytes);
        assertEquals(file + ": format version 3 is newer than this reader, which reads 1..1; upgrade StreamDL", refusal(file));
    }

    @Test
    void refusesTruncatedFiles() throws IOException {
        Path file = validFile();
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        assertTrue(refusal(file).contains("the file is truncated or corrupted"), refusal(file));
        Files.write(file, java.util.Arrays.copyOf(bytes, 30));
        assertTrue(refusal(file).contains("header claims"), refusal(file));
        Files.write(file, java.util.Arrays.copyOf(bytes, 5));
        assertTrue(refusal(file).contains("shorter than a model file's 12-byte preamble"), refusal(file));
    }

    @Test
    void refusesCorruptedTensorData() throws IOException {
        Path file = validFile();
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 7] ^= 0x5a;
        Files.write(file, bytes);
        assertTrue(refusal(file).contains("fails its checksum"), refusal(file));
    }

    @Test
    void refusesAHeaderThatClaimsATerabyteTensorBeforeAllocating() throws IOException {
        Path file = dir.resolve("hostile.sdlm");
        try (Allocator allocator = Allocator.root("hostile", 1 << 20)) {
            ParameterFactory p = new ParameterFactory(allocator, 0);
            Model model = new Model(Sequential.of("net", new Linear(p, "fc", 4, 2)), allocator, kernels());
            ModelFile.write(file, model, Map.of());
            model.kernels().close();
        }
        // rewrite the header with an absurd shape for fc.weight, same encoding otherwise
        ByteBuffer whole = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = whole.getInt(8);
        byte[] header = new byte[headerLength];
        whole.get(12, header);
        var decoder = org.apache.avro.io.DecoderFactory.get().binaryDecoder(header, null);
        var record = new org.apache.avro.generic.GenericDatumReader<org.apache.avro.generic.GenericRecord>(ModelFile.SCHEMA)
                .read(null, decoder);
        var entry = (org.apache.avro.generic.GenericRecord) ((java.util.List<?>) record.get("tensors")).get(0);
        entry.put("shape", java.util.List.of(1L << 19, 1L << 19));
        entry.put("length", 4L << 38);
        var out = new java.io.ByteArrayOutputStream();
        var encoder = org.apache.avro.io.EncoderFactory.get().binaryEncoder(out, null);
        new org.apache.avro.generic.GenericDatumWriter<org.apache.avro.generic.GenericRecord>(ModelFile.SCHEMA).write(record, encoder);
        encoder.flush();
        ByteBuffer hostile = ByteBuffer.allocate(12 + out.size() + 256).order(ByteOrder.LITTLE_ENDIAN);
        hostile.put(new byte[] {'S', 'D', 'L', 'M'}).putShort((short) 1).putShort((short) 0).putInt(out.size()).put(out.toByteArray());
        Files.write(file, hostile.array());
        String message = refusal(file);
        assertTrue(message.contains("tensor 'fc.weight' claims bytes"), message);
    }

    @Test
    void refusesGarbageHeaders() throws IOException {
        Path file = dir.resolve("garbage.sdlm");
        ByteBuffer b = ByteBuffer.allocate(12 + 64).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {'S', 'D', 'L', 'M'}).putShort((short) 1).putShort((short) 0).putInt(64);
        for (int i = 0; i < 64; i++) {
            b.put((byte) (0x80 | i));
        }
        Files.write(file, b.array());
        assertTrue(refusal(file).contains("header is not a valid model header"), refusal(file));
    }

    @Test
    void refusesTensorsThatDisagreeWithTheArchitecture() throws IOException {
        Path file = dir.resolve("mismatch.sdlm");
        try (Allocator allocator = Allocator.root("m", 1 << 20)) {
            ParameterFactory p = new ParameterFactory(allocator, 0);
            Model model = new Model(Sequential.of("net", new Linear(p, "fc1", 4, 2)), allocator, kernels());
            ModelFile.write(file, model, Map.of());
            model.kernels().close();
        }
        byte[] bytes = Files.readAllBytes(file);
        // the architecture says in=4; make it say in=5 (same encoded length: one digit)
        String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
        int at = text.indexOf("\u0004in\u00024");
        assertTrue(at > 0, "attribute 'in' found in the header");
        bytes[at + 4] = '5';
        Files.write(file, bytes);
        assertEquals(file + ": tensor 'fc1.weight' is float32 (2, 4) in the directory but the architecture expects float32 (2, 5)",
                refusal(file));
    }

    @Test
    void refusesMissingFiles() {
        Path missing = dir.resolve("none.sdlm");
        assertEquals(missing + ": no such file", refusal(missing));
    }

    @Test
    void theReferenceWeightsMatchWhatTheyWereTrainedTo() {
        try (Model model = Models.mlp(1, kernels()); Allocator a = Allocator.root("t", 64L << 20)) {
            ReferenceData.loadWeights(model, "mlp-weights");
            Tensor logits = model.predict(ReferenceData.images(a).reshape(256, 784), a);
            Tensor diff = Elementwise.sub(logits, ReferenceData.tensor("mlp_logits.f32", DType.FLOAT32, Shape.of(256, 10), a), a);
            assertTrue(org.streamdl.tensor.ops.Reduce.maxAll(Elementwise.abs(diff, a)) < 1e-4);
        }
    }
}
