package org.streamdl.dnn.layers;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.testing.GradientCheck;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;
import org.streamdl.tensor.ops.RandomFill;
import org.streamdl.tensor.ops.Reduce;

class GraphAndNormalizationTest {
    private Allocator params;
    private Kernels kernels;
    private ParameterFactory factory;

    @BeforeEach
    void open() {
        params = Allocator.root("params", 64L << 20);
        kernels = Kernels.create(1, Kernels.Preference.REFERENCE);
        factory = new ParameterFactory(params, 5);
    }

    @AfterEach
    void close() {
        kernels.close();
        params.close();
    }

    private Tensor input(long... dims) {
        Tensor x = params.allocate(DType.FLOAT32, dims);
        RandomFill.uniform(x, -1, 1, new Rng(dims[0] * 31 + dims.length));
        return x;
    }

    @Test
    void batchNormGradientsInTrainingAndEvaluation() {
        GradientCheck.check(new BatchNorm(factory, "bn2d", 3), input(4, 3, 2, 2), kernels);
        GradientCheck.check(new BatchNorm(factory, "bn1d", 5), input(6, 5), kernels);
    }

    @Test
    void batchNormNormalizesEachChannelAndTracksRunningStatistics() {
        BatchNorm bn = new BatchNorm(factory, "bn", 2);
        try (Allocator step = Allocator.root("step", 1 << 20)) {
            Tensor x = Convert.fromFloats(new float[] {1, 10, 3, 20, 5, 30}, Shape.of(3, 2), step);
            Tensor y = bn.forward(x, Context.training(step, kernels, new Rng(1)));
            Tensor mean = Reduce.mean(y, step, false, 0);
            assertArrayEquals(new float[] {0, 0}, Convert.toFloatArray(mean), 1e-6f);
            // channel 0: batch mean 3, unbiased variance 4 → running 0.9·0 + 0.1·3, 0.9·1 + 0.1·4
            assertArrayEquals(new float[] {0.3f, 2f}, Convert.toFloatArray(bn.buffers().get(0).value()), 1e-6f);
            assertArrayEquals(new float[] {1.3f, 10.9f}, Convert.toFloatArray(bn.buffers().get(1).value()), 1e-5f);
            Tensor eval = bn.forward(x, Context.inference(step, kernels));
            assertEquals((1 - 0.3) / Math.sqrt(1.3 + 1e-5), eval.getFloat(0, 0), 1e-5);
        }
    }

    @Test
    void layerNormGradients() {
        GradientCheck.check(new LayerNorm(factory, "ln", 6), input(3, 6), kernels);
    }

    @Test
    void embeddingLooksUpRowsAndAccumulatesTheirGradients() {
        Embedding emb = new Embedding(factory, "emb", 5, 3);
        try (Allocator step = Allocator.root("step", 1 << 20)) {
            Tensor ids = Convert.fromInts(new int[] {4, 1, 4}, Shape.of(3), step);
            Context ctx = Context.training(step, kernels, new Rng(1));
            Tensor y = emb.forward(ids, ctx);
            assertEquals(Shape.of(3, 3), y.shape());
            assertArrayEquals(Convert.toFloatArray(emb.parameters().get(0).value().select(0, 4)),
                    Convert.toFloatArray(y.select(0, 2)));
            Tensor dy = Convert.fromFloats(new float[] {1, 1, 1, 2, 2, 2, 3, 3, 3}, Shape.of(3, 3), step);
            emb.backward(dy, ctx);
            assertArrayEquals(new float[] {4, 4, 4}, Convert.toFloatArray(emb.parameters().get(0).grad().select(0, 4)));
            assertArrayEquals(new float[] {2, 2, 2}, Convert.toFloatArray(emb.parameters().get(0).grad().select(0, 1)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> emb.forward(Convert.fromInts(new int[] {5}, Shape.of(1), step), ctx));
            assertEquals("emb (Embedding 5x3): index 5 at position 0 is outside [0, 5)", e.getMessage());
        }
    }

    @Test
    void residualGraphSumsGradientsOfSharedValues() {
        Graph block = Graph.builder("block", "x")
                .add(new Linear(factory, "fc1", 4, 4), "x")
                .add(Activation.tanh("act"), "fc1")
                .add(new Add("residual"), "act", "x")
                .add(new Linear(factory, "head", 4, 2), "residual")
                .outputs("head")
                .build();
        GradientCheck.check(block, input(3, 4), kernels);
    }

    @Test
    void addBroadcastsAndConcatJoins() {
        Graph g = Graph.builder("g", "a", "b")
                .add(new Add("sum"), "a", "b")
                .add(new Concat("cat", 1), "sum", "a")
                .add(new Linear(factory, "fc", 6, 2), "cat")
                .outputs("fc")
                .build();
        try (Allocator step = Allocator.root("step", 1 << 20)) {
            Tensor a = input(2, 3);
            Tensor b = Convert.fromFloats(new float[] {1, 2, 3}, Shape.of(3), step);
            Context ctx = Context.training(step, kernels, new Rng(1));
            Tensor out = g.forward(Map.of("a", a, "b", b), ctx).get("fc");
            assertEquals(Shape.of(2, 2), out.shape());
            Tensor ones = Convert.fromFloats(new float[] {1, 1, 1, 1}, Shape.of(2, 2), step);
            Map<String, Tensor> grads = g.backward(Map.of("fc", ones), ctx);
            assertEquals(Shape.of(3), grads.get("b").shape());      // summed over the broadcast batch axis
            assertEquals(Shape.of(2, 3), grads.get("a").shape());
        }
    }

    @Test
    void graphBuilderRefusesUnknownInputsAndDuplicateNames() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> Graph.builder("g", "x").add(new Relu("r"), "y"));
        assertEquals("graph 'g': node 'r' reads 'y', which is neither an input nor an earlier node", unknown.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Graph.builder("g", "x").add(new Relu("r"), "x").add(new Relu("r"), "r"));
        assertThrows(IllegalArgumentException.class, () -> Graph.builder("g", "x").add(new Relu("r"), "x", "x"));
    }

    @Test
    void graphsWithNormalizationRoundTripThroughTheModelFile(@TempDir Path dir) throws Exception {
        Allocator modelMemory = Allocator.root("model", 64L << 20);
        ParameterFactory p = new ParameterFactory(modelMemory, 9);
        Graph net = Graph.builder("net", "x")
                .add(new Linear(p, "fc1", 4, 4), "x")
                .add(new BatchNorm(p, "bn", 4), "fc1")
                .add(new Add("residual"), "bn", "x")
                .add(new LayerNorm(p, "ln", 4), "residual")
                .add(new Linear(p, "head", 4, 3), "ln")
                .outputs("head")
                .build();
        Path file = dir.resolve("graph.sdlm");
        try (Model model = new Model(net, modelMemory, Kernels.create(1, Kernels.Preference.REFERENCE));
             Allocator a = Allocator.root("a", 1 << 20)) {
            Tensor x = input(5, 4);
            try (Allocator step = a.newChild("train", 1 << 20)) {
                net.forward(x, Context.training(step, model.kernels(), new Rng(1)));   // moves running statistics
            }
            ModelFile.write(file, model, Map.of());
            Tensor expected = model.predict(x, a);
            try (Model copy = ModelFile.read(file, Kernels.create(1, Kernels.Preference.REFERENCE)).model()) {
                assertArrayEquals(Convert.toFloatArray(expected), Convert.toFloatArray(copy.predict(x, a)));
                assertArrayEquals(Convert.toFloatArray(model.buffers().get("bn.running_mean")),
                        Convert.toFloatArray(copy.buffers().get("bn.running_mean")));
            }
        }
    }
}
