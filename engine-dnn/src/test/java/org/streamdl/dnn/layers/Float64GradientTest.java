package org.streamdl.dnn.layers;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.testing.GradientCheck;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.RandomFill;
import org.streamdl.tensor.spi.Pool2dSpec;

/**
 * Gradient checks in float64 on the reference kernels (ε 1e-6, bound 1e-6 relative + 1e-8) for
 * every layer, in training mode and for BatchNorm in evaluation mode too; the float32 checks in
 * {@link LayerGradientTest} check the float32 path the same way at float32's looser bounds.
 */
class Float64GradientTest {
    private Allocator params;
    private Kernels kernels;
    private ParameterFactory factory;

    @BeforeEach
    void open() {
        params = Allocator.root("params", 64L << 20);
        kernels = Kernels.create(1, Kernels.Preference.BEST); // oneDNN declines float64: the reference runs
        factory = new ParameterFactory(params, 3, DType.FLOAT64);
    }

    @AfterEach
    void close() {
        kernels.close();
        params.close();
    }

    private Tensor input(long... dims) {
        Tensor x = params.allocate(DType.FLOAT64, dims);
        RandomFill.uniform(x, -1, 1, new Rng(dims.length + dims[0]));
        return x;
    }

    @Test
    void linear() {
        GradientCheck.check(new Linear(factory, "fc", 7, 5), input(4, 7), kernels);
        GradientCheck.check(new Linear(factory, "fc", 6, 3, false), input(2, 6), kernels);
    }

    @Test
    void linearWithFusedRelu() {
        Linear fc = new Linear(factory, "fc", 6, 4);
        fc.fuseRelu();
        GradientCheck.check(fc, input(3, 6), kernels);
    }

    @Test
    void conv2dWithStrideDilationGroupsAndPadding() {
        GradientCheck.check(new Conv2d(factory, "conv", 2, 3, 3, 1, 1), input(2, 2, 6, 5), kernels);
        GradientCheck.check(new Conv2d(factory, "conv", 4, 6, 3, 2, 2, 1, 2, 2, true), input(2, 4, 9, 8), kernels);
    }

    @Test
    void transposedConvolutionWithStrideGroupsDilationAndOutputPadding() {
        GradientCheck.check(new ConvTranspose2d(factory, "deconv", 2, 3, 3, 3, 2, 1, 1, 1, 1, true), input(2, 2, 4, 3), kernels);
        GradientCheck.check(new ConvTranspose2d(factory, "deconv", 4, 2, 2, 3, 1, 0, 2, 2, 0, false), input(1, 4, 3, 5), kernels);
    }

    @Test
    void maxAndAveragePooling() {
        GradientCheck.check(Pool2d.max("pool", 2), input(2, 3, 6, 6), kernels);
        GradientCheck.check(Pool2d.avg("pool", 2), input(2, 3, 6, 6), kernels);
        GradientCheck.check(new Pool2d("pool", Pool2dSpec.Kind.AVG, 3, 2, 1), input(1, 2, 7, 7), kernels);
    }

    @Test
    void convReluPoolBlockFusedByTheContainer() {
        Sequential net = Sequential.of("net", new Conv2d(factory, "conv", 1, 2, 3, 1, 1), new Relu("relu"),
                Pool2d.max("pool", 2), new Flatten("flat"), new Linear(factory, "fc", 2 * 3 * 3, 3));
        GradientCheck.check(net, input(2, 1, 6, 6), kernels);
    }

    @Test
    void flattenReshapeAddAndConcat() {
        GradientCheck.check(Sequential.of("net", new Flatten("flat"), new Linear(factory, "fc", 12, 2)), input(2, 3, 4), kernels);
        Graph residual = Graph.builder("block", "x")
                .add(new Linear(factory, "a", 4, 4), "x")
                .add(new Linear(factory, "b", 4, 4), "x")
                .add(new Add("sum"), "a", "x")
                .add(new Concat("cat", 1), "sum", "b")
                .outputs("cat").build();
        GradientCheck.check(residual, input(3, 4), kernels);
    }

    /** Inputs kept at least 0.2 away from 0, so no kink lies within ε. */
    private Tensor awayFromZero(long... dims) {
        Tensor x = input(dims);
        Tensor flat = x.reshape(x.elementCount());
        for (long i = 0; i < flat.elementCount(); i++) {
            double v = flat.getDouble(i);
            flat.set(v >= 0 ? v + 0.2 : v - 0.2, i);
        }
        return x;
    }

    @Test
    void reluAndPointwiseActivations() {
        GradientCheck.check(new Relu("relu"), awayFromZero(3, 8), kernels);
        GradientCheck.check(Activation.sigmoid("sigmoid"), input(3, 7), kernels);
        GradientCheck.check(Activation.tanh("tanh"), input(3, 7), kernels);
        GradientCheck.check(Activation.leakyRelu("leaky", 0.1), awayFromZero(3, 7), kernels);
        GradientCheck.check(Activation.gelu("gelu"), input(3, 7), kernels);
        GradientCheck.check(Activation.identity("id"), input(3, 7), kernels);
    }

    @Test
    void erfBehindGeluHasDoublePrecision() {
        double[][] known = {{0.5, 0.5204998778130465}, {1, 0.8427007929497149}, {2, 0.9953222650189527},
                {-3, -0.9999779095030014}, {0.01, 0.011283415555849618}, {5.5, 0.9999999999999927}};
        for (double[] k : known) {
            org.junit.jupiter.api.Assertions.assertEquals(k[1], Activation.erf(k[0]), 1e-15, "erf(" + k[0] + ")");
        }
    }

    @Test
    void softmaxAndLogSoftmax() {
        GradientCheck.check(Softmax.softmax("softmax"), input(4, 6), kernels);
        GradientCheck.check(Softmax.logSoftmax("logsoftmax"), input(4, 6), kernels);
    }

    @Test
    void globalAveragePoolingAndReshape() {
        GradientCheck.check(new GlobalAvgPool2d("gap"), input(2, 3, 4, 5), kernels);
        GradientCheck.check(new Reshape("r", 3, -1), input(2, 3, 4), kernels);
    }

    @Test
    void batchNormInTrainingAndEvaluationAndLayerNorm() {
        GradientCheck.check(new BatchNorm(factory, "bn2d", 3), input(4, 3, 2, 2), kernels);
        GradientCheck.check(new BatchNorm(factory, "bn1d", 5), input(6, 5), kernels);
        GradientCheck.check(new BatchNorm(factory, "bn-eval", 3), input(4, 3, 2, 2), kernels, false);
        GradientCheck.check(new LayerNorm(factory, "ln", 6), input(3, 6), kernels);
    }

    @Test
    void seededDropoutAndEmbedding() {
        GradientCheck.check(new Dropout("drop", 0.5), input(3, 4), kernels);
        Tensor indices = params.allocate(DType.INT32, 2, 3);
        int[] ids = {0, 4, 2, 2, 1, 4};
        for (int i = 0; i < ids.length; i++) {
            indices.set(ids[i], i / 3, i % 3);
        }
        GradientCheck.check(new Embedding(factory, "emb", 5, 3), indices, kernels);
    }

    @Test
    void arithmeticTransposeSqueezeClipAndErf() {
        Tensor c = input(1, 4);
        awayFromZeroBy(c, 2.5); // keep divisors away from zero
        for (Arithmetic.Op op : Arithmetic.Op.values()) {
            GradientCheck.check(Arithmetic.withConstant("right", op, c, false), input(3, 4), kernels);
            GradientCheck.check(Arithmetic.withConstant("left", op, c, true), awayFromZero(3, 4), kernels);
            Graph twoInputs = Graph.builder("g", "x")
                    .add(new Linear(factory, "fc", 4, 4), "x")
                    .add(Activation.sigmoid("positive"), "fc")
                    .add(Arithmetic.of("op", op), "x", "positive")
                    .outputs("op").build();
            GradientCheck.check(twoInputs, input(3, 4), kernels);
        }
        GradientCheck.check(new Transpose("t", 0, 2, 1), input(2, 3, 4), kernels);
        GradientCheck.check(Squeeze.unsqueeze("u", 1), input(2, 3), kernels);
        GradientCheck.check(Activation.clip("clip", -0.5, 0.5), input(3, 7), kernels);
        GradientCheck.check(Activation.erf("erf"), input(3, 7), kernels);
    }

    private static void awayFromZeroBy(Tensor t, double v) {
        Tensor flat = t.reshape(t.elementCount());
        for (long i = 0; i < flat.elementCount(); i++) {
            flat.set(Math.abs(flat.getDouble(i)) + v, i);
        }
    }

    @Test
    void aWrongBackwardFailsTheFloat64Check() {
        Layer broken = new Layer() {
            private final Linear fc = new Linear(factory, "fc", 3, 2);

            @Override
            public Tensor forward(Tensor x, org.streamdl.dnn.Context ctx) {
                return fc.forward(x, ctx);
            }

            @Override
            public Tensor backward(Tensor dy, org.streamdl.dnn.Context ctx) {
                Tensor dx = fc.backward(dy, ctx);
                dx.reshape(dx.elementCount()).set(dx.reshape(dx.elementCount()).getDouble(0) * (1 + 1e-4), 0); // 0.01% off
                return dx;
            }

            @Override
            public String name() {
                return "broken";
            }

            @Override
            public java.util.List<org.streamdl.dnn.Parameter> parameters() {
                return fc.parameters();
            }

            @Override
            public LayerConfig config() {
                return fc.config();
            }
        };
        AssertionError e = assertThrows(AssertionError.class, () -> GradientCheck.check(broken, input(2, 3), kernels));
        assertTrue(e.getMessage().contains("input[0]"), e.getMessage());
    }
}
