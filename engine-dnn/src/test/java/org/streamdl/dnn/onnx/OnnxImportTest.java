package org.streamdl.dnn.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streamdl.tensor.testing.TensorAssertions.assertClose;

import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.layers.Sequential;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.testing.ReferenceData;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.testing.Tolerance;

/** PyTorch's exported ONNX models import and reproduce PyTorch's logits; bad files are refused. */
class OnnxImportTest {
    private static final Tolerance GOLDEN = Tolerance.rtolAtol(0, 1e-4);

    static byte[] resource(String name) throws IOException {
        try (InputStream in = OnnxImportTest.class.getResourceAsStream("/org/streamdl/dnn/reference/" + name)) {
            return in.readAllBytes();
        }
    }

    private static Model load(String name, Kernels.Preference preference) throws Exception {
        return OnnxImporter.importModel(OnnxReader.read(resource(name), name), name, Kernels.create(2, preference));
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void lenet5OnnxReproducesPytorchLogits(Kernels.Preference preference) throws Exception {
        try (Model model = load("lenet5.onnx", preference); Allocator a = Allocator.root("test", 64L << 20)) {
            assertInstanceOf(Sequential.class, model.network(), "a chain imports as Sequential, so oneDNN fuses it");
            assertEquals(61_706, model.parameterCount());
            assertTrue(model.parameters().stream().anyMatch(p -> p.name().equals("features.0.weight")),
                    model.parameters().toString());
            Tensor logits = model.predict(ReferenceData.images(a), a);
            assertClose(ReferenceData.tensor("lenet5_logits.f32", DType.FLOAT32, Shape.of(256, 10), a), logits, GOLDEN);
        }
    }

    /** tools/golden/make_onnx_convtranspose.py: PyTorch's ConvTranspose2d (stride 2, output_padding 1, 2 groups) + ReLU. */
    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void convTransposeOnnxReproducesPytorch(Kernels.Preference preference) throws Exception {
        byte[] file;
        try (InputStream in = OnnxImportTest.class.getResourceAsStream("conv_transpose.onnx")) {
            file = in.readAllBytes();
        }
        try (Model model = OnnxImporter.importModel(OnnxReader.read(file, "conv_transpose.onnx"), "conv_transpose.onnx",
                Kernels.create(1, preference));
             Allocator a = Allocator.root("test", 16L << 20)) {
            Tensor x = floats("conv_transpose.x.bin", Shape.of(2, 2, 5, 4), a);
            Tensor expected = floats("conv_transpose.y.bin", Shape.of(2, 4, 10, 8), a);
            assertClose(expected, model.predict(x, a), Tolerance.rtolAtol(1e-5, 1e-5));
        }
    }

    private static Tensor floats(String name, Shape shape, Allocator a) throws IOException {
        try (InputStream in = OnnxImportTest.class.getResourceAsStream(name)) {
            java.nio.ByteBuffer bytes = java.nio.ByteBuffer.wrap(in.readAllBytes()).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            float[] values = new float[bytes.remaining() / 4];
            bytes.asFloatBuffer().get(values);
            return org.streamdl.tensor.ops.Convert.fromFloats(values, shape, a);
        }
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void mlpOnnxReproducesPytorchLogits(Kernels.Preference preference) throws Exception {
        try (Model model = load("mlp.onnx", preference); Allocator a = Allocator.root("test", 64L << 20)) {
            Tensor logits = model.predict(ReferenceData.images(a).reshape(256, 784), a);
            assertClose(ReferenceData.tensor("mlp_logits.f32", DType.FLOAT32, Shape.of(256, 10), a), logits, GOLDEN);
        }
    }

    /** How the model's logits on the 256 reference images compare with the QDQ reference simulation. */
    private record Agreement(int sameClass, int within1e3, double maxDiff, double meanDiff) {}

    private static Agreement qdqAgreement(Model model) throws IOException {
        try (Allocator a = Allocator.root("test", 64L << 20)) {
            return agreement(model.predict(ReferenceData.images(a).reshape(256, 784), a),
                    ReferenceData.tensor("mlp_int8_qdq_logits.f32", DType.FLOAT32, Shape.of(256, 10), a));
        }
    }

    private static Agreement agreement(Tensor logits, Tensor expected) {
        int sameClass = 0;
        int close = 0;
        double max = 0;
        double sum = 0;
        for (int i = 0; i < 256; i++) {
            int ours = 0;
            int theirs = 0;
            for (int j = 0; j < 10; j++) {
                ours = logits.getFloat(i, j) > logits.getFloat(i, ours) ? j : ours;
                theirs = expected.getFloat(i, j) > expected.getFloat(i, theirs) ? j : theirs;
                double diff = Math.abs(logits.getFloat(i, j) - expected.getFloat(i, j));
                close += diff < 1e-3 ? 1 : 0;
                max = Math.max(max, diff);
                sum += diff;
            }
            sameClass += ours == theirs ? 1 : 0;
        }
        return new Agreement(sameClass, close, max, sum / 2560);
    }

    /** tools/golden/make_onnx_lenet_qdq.py: the reference LeNet-5 in QDQ form (int8 per-channel weights, uint8 activations). */
    private static Agreement lenetQdqAgreement(boolean int8Kernels, Kernels.Preference preference, List<Object> layers)
            throws Exception {
        byte[] file;
        try (InputStream in = OnnxImportTest.class.getResourceAsStream("lenet5_int8_qdq.onnx")) {
            file = in.readAllBytes();
        }
        try (Model model = OnnxImporter.importModel(OnnxReader.read(file, "lenet5_int8_qdq.onnx"), "lenet5_int8_qdq.onnx",
                Kernels.create(2, preference), int8Kernels);
             Allocator a = Allocator.root("test", 64L << 20)) {
            layers.addAll(((Sequential) model.network()).layers());
            return agreement(model.predict(ReferenceData.images(a), a),
                    floats("lenet5_int8_qdq_logits.f32", Shape.of(256, 10), a));
        }
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void qdqConvolutionalModelImportsAsItsExactFakeQuantization(Kernels.Preference preference) throws Exception {
        Agreement agreement = lenetQdqAgreement(false, preference, new java.util.ArrayList<>());
        assertEquals(256, agreement.sameClass(), agreement.toString());
        assertTrue(agreement.maxDiff() < 0.05, agreement.toString());
        assertTrue(agreement.within1e3() >= 2530, agreement.toString());
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void qdqConvolutionsRunOnInt8Kernels(Kernels.Preference preference) throws Exception {
        List<Object> layers = new java.util.ArrayList<>();
        Agreement agreement = lenetQdqAgreement(true, preference, layers);
        // conv+ReLU+pool twice, flatten, three Linear layers: every QDQ pair, ReLU and pool folded in
        assertEquals(6, layers.size(), layers.toString());
        assertEquals(2, layers.stream().filter(l -> l instanceof org.streamdl.dnn.layers.QuantizedConv2d).count(),
                layers.toString());
        assertEquals(3, layers.stream().filter(l -> l instanceof org.streamdl.dnn.layers.QuantizedLinear).count(),
                layers.toString());
        assertTrue(agreement.sameClass() >= 255, agreement.toString());
        // requantized codes equal the simulation's rounding except at a tie; measured max 2e-6
        assertTrue(agreement.within1e3() >= 2500, agreement.toString());
        assertTrue(agreement.maxDiff() < 0.1, agreement.toString());
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void qdqInt8ModelImportsAsItsExactFakeQuantization(Kernels.Preference preference) throws Exception {
        OnnxModel onnx = OnnxReader.read(resource("mlp_int8_qdq.onnx"), "mlp_int8_qdq.onnx");
        try (Model model = OnnxImporter.importModel(onnx, "mlp_int8_qdq.onnx", Kernels.create(2, preference), false)) {
            Agreement agreement = qdqAgreement(model);
            assertTrue(agreement.sameClass() >= 255, agreement.toString());
            assertTrue(agreement.maxDiff() < 0.1, agreement.toString());
            // fake quantization in float32 matches the simulation except where a sum lands on a rounding tie
            assertTrue(agreement.within1e3() >= 2530, agreement.toString());
        }
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void qdqInt8ModelRunsOnInt8Kernels(Kernels.Preference preference) throws Exception {
        try (Model model = load("mlp_int8_qdq.onnx", preference)) {
            List<?> layers = ((Sequential) model.network()).layers();
            assertEquals(3, layers.stream().filter(l -> l instanceof org.streamdl.dnn.layers.QuantizedLinear).count(), layers.toString());
            assertEquals(3, layers.size(), "the QDQ pairs and ReLUs are folded into the int8 layers: " + layers);
            Agreement agreement = qdqAgreement(model);
            assertTrue(agreement.sameClass() >= 255, agreement.toString());
            assertTrue(agreement.maxDiff() < 0.25, agreement.toString());
            // integer kernels round at the requantization steps where the simulation is exact: about 1e-2
            assertTrue(agreement.meanDiff() < 2e-2, agreement.toString());
        }
    }

    @Test
    void everyUnsupportedNodeIsReportedAtOnce() throws Exception {
        byte[] model = model(graphOf(
                node("Einsum", "einsum_1", "input", "a"),
                node("LSTM", "lstm_1", "a", "b"),
                node("Relu", "relu_1", "b", "c"),
                node("Softmax", "softmax_1", "c", "logits", intAttribute("axis", 0))));
        OnnxModel onnx = OnnxReader.read(model, "bad.onnx");
        assertEquals(0, OnnxImporter.coverage(onnx).get("LSTM")[1]);
        assertEquals(1, OnnxImporter.coverage(onnx).get("Relu")[1]);
        OnnxFormatException e = assertThrows(OnnxFormatException.class,
                () -> OnnxImporter.importModel(onnx, "bad.onnx", Kernels.create(1, Kernels.Preference.REFERENCE)));
        assertEquals("""
                bad.onnx: cannot import 3 node(s) or attribute(s):
                  node 'einsum_1' (Einsum): operator Einsum is not supported
                  node 'lstm_1' (LSTM): operator LSTM is not supported
                  node 'softmax_1' (Softmax): attribute axis=0 is not supported (the last axis, -1, is)""", e.getMessage());
    }

    private static byte[] node(String op, String name, String input, String output, byte[]... attributes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CodedOutputStream n = CodedOutputStream.newInstance(out);
        n.writeString(1, input);
        n.writeString(2, output);
        n.writeString(3, name);
        n.writeString(4, op);
        for (byte[] a : attributes) {
            n.writeByteArray(5, a);
        }
        n.flush();
        return out.toByteArray();
    }

    private static byte[] intAttribute(String name, long value) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CodedOutputStream a = CodedOutputStream.newInstance(out);
        a.writeString(1, name);
        a.writeInt64(3, value);
        a.writeInt32(20, 2); // AttributeProto.INT
        a.flush();
        return out.toByteArray();
    }

    private static byte[] valueInfo(String name) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CodedOutputStream v = CodedOutputStream.newInstance(out);
        v.writeString(1, name);
        v.flush();
        return out.toByteArray();
    }

    private static byte[] graphOf(byte[]... nodes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CodedOutputStream g = CodedOutputStream.newInstance(out);
        for (byte[] n : nodes) {
            g.writeByteArray(1, n);
        }
        g.writeByteArray(11, valueInfo("input"));
        g.writeByteArray(12, valueInfo("logits"));
        g.flush();
        return out.toByteArray();
    }

    @Test
    void truncatedCorruptedAndHostileFilesAreRefusedWithTheFileName() throws Exception {
        byte[] good = resource("lenet5.onnx");
        String truncated = assertThrows(OnnxFormatException.class,
                () -> OnnxReader.read(Arrays.copyOf(good, good.length / 2), "cut.onnx")).getMessage();
        assertTrue(truncated.startsWith("cut.onnx: "), truncated);

        String text = assertThrows(OnnxFormatException.class,
                () -> OnnxReader.read("hello, this is not a model".getBytes(), "text.onnx")).getMessage();
        assertTrue(text.startsWith("text.onnx: "), text);

        // A graph whose one initializer claims 10^12 floats in a few bytes.
        ByteArrayOutputStream tensor = new ByteArrayOutputStream();
        CodedOutputStream t = CodedOutputStream.newInstance(tensor);
        t.writeInt64(1, 1_000_000);
        t.writeInt64(1, 1_000_000);
        t.writeInt32(2, OnnxReader.FLOAT);
        t.writeString(8, "huge");
        t.writeByteArray(9, new byte[16]);
        t.flush();
        byte[] model = model(graph(tensor.toByteArray()));
        String huge = assertThrows(OnnxFormatException.class, () -> OnnxReader.read(model, "huge.onnx")).getMessage();
        assertEquals("huge.onnx: tensor 'huge' claims 1000000000000 elements (4000000000000 bytes) in a file of "
                + model.length + " bytes", huge);
    }

    @Test
    void rawDataThatDisagreesWithDimsIsRefused() throws Exception {
        ByteArrayOutputStream tensor = new ByteArrayOutputStream();
        CodedOutputStream t = CodedOutputStream.newInstance(tensor);
        t.writeInt64(1, 2);
        t.writeInt64(1, 3);
        t.writeInt32(2, OnnxReader.FLOAT);
        t.writeString(8, "w");
        t.writeByteArray(9, new byte[20]);
        t.flush();
        String message = assertThrows(OnnxFormatException.class,
                () -> OnnxReader.read(model(graph(tensor.toByteArray())), "w.onnx")).getMessage();
        assertEquals("w.onnx: tensor 'w' has dims [2, 3] (24 bytes) but 20 bytes of raw_data", message);
    }

    private static byte[] graph(byte[] initializer) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CodedOutputStream g = CodedOutputStream.newInstance(out);
        g.writeByteArray(5, initializer);
        g.flush();
        return out.toByteArray();
    }

    private static byte[] model(byte[] graph) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CodedOutputStream m = CodedOutputStream.newInstance(out);
        m.writeInt64(1, 8);
        m.writeByteArray(7, graph);
        m.flush();
        return out.toByteArray();
    }
}
