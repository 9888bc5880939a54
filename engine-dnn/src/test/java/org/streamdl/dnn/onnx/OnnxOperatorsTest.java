package org.streamdl.dnn.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.Model;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/** Small hand-written ONNX graphs per operator family, against values worked out by hand. */
class OnnxOperatorsTest {
    private static float[] run(OnnxGraphBuilder g, float[] input, long... shape) throws Exception {
        OnnxModel onnx = OnnxReader.read(g.build(), "test.onnx");
        try (Model model = OnnxImporter.importModel(onnx, "test.onnx", Kernels.create(1, Kernels.Preference.REFERENCE));
             Allocator a = Allocator.root("test", 1 << 20)) {
            Tensor x = Convert.fromFloats(input, Shape.of(shape), a);
            return Convert.toFloatArray(model.predict(x, a));
        }
    }

    @Test
    void arithmeticWithConstantsOnEitherSideAndBetweenValues() throws Exception {
        OnnxGraphBuilder g = new OnnxGraphBuilder("x", "y")
                .floats("c", new long[] {3}, 1, 2, 4)
                .floats("two", new long[] {}, 2)
                .node("Sub", List.of("x", "c"), "a")          // x - c
                .node("Div", List.of("two", "a"), "b")        // 2 / (x - c)
                .node("Mul", List.of("b", "x"), "y");         // x · 2 / (x - c)
        float[] x = {3, 4, 6, -1, 0, 8};
        float[] y = run(g, x, 2, 3);
        float[] c = {1, 2, 4};
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i] * 2 / (x[i] - c[i % 3]), y[i], 1e-6, "element " + i);
        }
    }

    @Test
    void gatherOfTableRowsImportsAsAnEmbedding() throws Exception {
        OnnxGraphBuilder g = new OnnxGraphBuilder("ids", "y")
                .floats("emb.weight", new long[] {4, 3}, 0, 1, 2, 10, 11, 12, 20, 21, 22, 30, 31, 32)
                .node("Gather", List.of("emb.weight", "ids"), "y");
        OnnxModel onnx = OnnxReader.read(g.build(), "gather.onnx");
        try (Model model = OnnxImporter.importModel(onnx, "gather.onnx", Kernels.create(1, Kernels.Preference.REFERENCE));
             Allocator a = Allocator.root("test", 1 << 20)) {
            assertEquals("emb", model.parameters().get(0).name().replace(".weight", ""));
            Tensor ids = a.allocate(org.streamdl.tensor.DType.INT32, Shape.of(2, 2));
            int[] rows = {3, 0, 1, 3};
            for (int i = 0; i < rows.length; i++) {
                ids.set(rows[i], i / 2, i % 2);
            }
            Tensor y = model.predict(ids, a);
            assertEquals(Shape.of(2, 2, 3), y.shape());
            assertArrayEquals(new float[] {30, 31, 32, 0, 1, 2, 10, 11, 12, 30, 31, 32}, Convert.toFloatArray(y));
        }
    }

    @Test
    void gatherOnAnotherAxisIsReportedWithTheNode() throws Exception {
        OnnxGraphBuilder g = new OnnxGraphBuilder("ids", "y")
                .floats("table", new long[] {2, 2}, 1, 2, 3, 4)
                .node("Gather", List.of("table", "ids"), "y", OnnxGraphBuilder.intAttribute("axis", 1));
        OnnxModel onnx = OnnxReader.read(g.build(), "gather.onnx");
        OnnxFormatException e = org.junit.jupiter.api.Assertions.assertThrows(OnnxFormatException.class,
                () -> OnnxImporter.importModel(onnx, "gather.onnx", Kernels.create(1, Kernels.Preference.REFERENCE)));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("Gather") && e.getMessage().contains("axis 1"),
                e.getMessage());
    }

    @Test
    void transposeSqueezeAndUnsqueeze() throws Exception {
        OnnxGraphBuilder g = new OnnxGraphBuilder("x", "y")
                .int64s("axes", 1)
                .int64s("last", 3)
                .node("Transpose", List.of("x"), "t", OnnxGraphBuilder.ints("perm", 0, 2, 1))   // (1, 2, 3) → (1, 3, 2)
                .node("Unsqueeze", List.of("t", "axes"), "u")                                     // (1, 1, 3, 2)
                .node("Unsqueeze", List.of("u", "last"), "v")                                     // (1, 1, 3, 1, 2)
                .node("Squeeze", List.of("v", "axes"), "y");                                      // (1, 3, 1, 2)
        float[] y = run(g, new float[] {1, 2, 3, 4, 5, 6}, 1, 2, 3);
        assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, y);
    }

    @Test
    void clipAndTheDecomposedGeluPytorchExports() throws Exception {
        float sqrt2 = (float) Math.sqrt(2);
        OnnxGraphBuilder g = new OnnxGraphBuilder("x", "y")
                .floats("lo", new long[] {}, -1)
                .floats("hi", new long[] {}, 1.5f)
                .floats("root2", new long[] {}, sqrt2)
                .floats("one", new long[] {}, 1)
                .floats("half", new long[] {}, 0.5f)
                .node("Clip", List.of("x", "lo", "hi"), "c")
                .node("Div", List.of("c", "root2"), "d")
                .node("Erf", List.of("d"), "e")
                .node("Add", List.of("e", "one"), "f")
                .node("Mul", List.of("c", "f"), "g")
                .node("Mul", List.of("g", "half"), "y");
        float[] x = {-3, -0.5f, 0, 0.7f, 1.5f, 9};
        float[] y = run(g, x, 1, 6);
        for (int i = 0; i < x.length; i++) {
            double c = Math.min(1.5, Math.max(-1, x[i]));
            double gelu = c * 0.5 * (1 + org.streamdl.dnn.layers.ActivationAccess.erf(c / Math.sqrt(2)));
            assertEquals(gelu, y[i], 1e-6, "element " + i);
        }
        assertEquals(-0.15865525393145707, y[0], 1e-6); // GELU(-1), the clip's lower bound
    }

    @Test
    void importedModelsRoundTripThroughTheModelFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        OnnxGraphBuilder g = new OnnxGraphBuilder("x", "y")
                .floats("c", new long[] {3}, 1, 2, 4)
                .floats("lo", new long[] {}, -1)
                .floats("hi", new long[] {}, 1.5f)
                .int64s("axes", 1)
                .int64s("last", 2)
                .node("Sub", List.of("c", "x"), "a")
                .node("Clip", List.of("a", "lo", "hi"), "b")
                .node("Erf", List.of("b"), "e")
                .node("Unsqueeze", List.of("e", "axes"), "u")
                .node("Transpose", List.of("u"), "t", OnnxGraphBuilder.ints("perm", 0, 2, 1))
                .node("Squeeze", List.of("t", "last"), "y");
        byte[] qdq;
        try (java.io.InputStream in = getClass().getResourceAsStream("/org/streamdl/dnn/reference/mlp_int8_qdq.onnx")) {
            qdq = in.readAllBytes();
        }
        for (byte[] onnxBytes : List.of(g.build(), qdq)) {
            OnnxModel onnx = OnnxReader.read(onnxBytes, "m.onnx");
            java.nio.file.Path file = dir.resolve("imported.sdlm");
            long width = onnxBytes == qdq ? 784 : 3;
            try (Model imported = OnnxImporter.importModel(onnx, "m.onnx", Kernels.create(1, Kernels.Preference.REFERENCE));
                 Allocator a = Allocator.root("test", 16 << 20)) {
                Tensor x = a.allocate(DType.FLOAT32, 2, width);
                org.streamdl.tensor.ops.RandomFill.uniform(x, 0, 1, new org.streamdl.tensor.Rng(3));
                org.streamdl.dnn.model.ModelFile.write(file, imported, java.util.Map.of("source", "m.onnx"));
                try (Model loaded = org.streamdl.dnn.model.ModelFile.read(file, Kernels.create(1, Kernels.Preference.REFERENCE)).model()) {
                    assertArrayEquals(Convert.toFloatArray(imported.predict(x, a)), Convert.toFloatArray(loaded.predict(x, a)));
                }
            }
        }
    }

    @Test
    void layerNormalizationOverTheLastAxis() throws Exception {
        OnnxGraphBuilder g = new OnnxGraphBuilder("x", "y")
                .floats("scale", new long[] {4}, 1, 2, 0.5f, -1)
                .floats("bias", new long[] {4}, 0, 1, 0, 0.25f)
                .node("LayerNormalization", List.of("x", "scale", "bias"), "y", OnnxGraphBuilder.floatAttribute("epsilon", 1e-5f));
        float[] x = {1, 2, 3, 4, -2, 0, 2, 8};
        float[] y = run(g, x, 2, 4);
        float[] scale = {1, 2, 0.5f, -1};
        float[] bias = {0, 1, 0, 0.25f};
        for (int r = 0; r < 2; r++) {
            double mean = 0;
            double var = 0;
            for (int j = 0; j < 4; j++) {
                mean += x[r * 4 + j] / 4.0;
            }
            for (int j = 0; j < 4; j++) {
                var += Math.pow(x[r * 4 + j] - mean, 2) / 4;
            }
            for (int j = 0; j < 4; j++) {
                double expected = (x[r * 4 + j] - mean) / Math.sqrt(var + 1e-5) * scale[j] + bias[j];
                assertEquals(expected, y[r * 4 + j], 1e-5, "row " + r + " column " + j);
            }
        }
    }
}
