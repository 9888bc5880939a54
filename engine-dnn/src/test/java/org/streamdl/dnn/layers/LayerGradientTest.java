package org.streamdl.dnn.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.testing.GradientCheck;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Elementwise;
import org.streamdl.tensor.ops.RandomFill;

/** Every layer's backward pass agrees with central differences of its forward pass (reference kernels). */
class LayerGradientTest {
    private Allocator params;
    private Kernels kernels;
    private ParameterFactory factory;

    @BeforeEach
    void open() {
        params = Allocator.root("params", 64L << 20);
        kernels = Kernels.create(1, Kernels.Preference.REFERENCE);
        factory = new ParameterFactory(params, 3);
    }

    @AfterEach
    void close() {
        kernels.close();
        params.close();
    }

    private Tensor input(long... dims) {
        Tensor x = params.allocate(DType.FLOAT32, dims);
        RandomFill.uniform(x, -1, 1, new Rng(dims.length + dims[0]));
        return x;
    }

    /** Inputs kept at least 0.2 away from 0, so no ReLU kink lies within ε. */
    private Tensor awayFromZero(long... dims) {
        Tensor x = input(dims);
        Tensor sign = Elementwise.sigmoid(Elementwise.mulScalar(x, 1e6, params), params);   // 0 or 1
        Elementwise.addScaled(x, Elementwise.addScalar(Elementwise.mulScalar(sign, 0.4, params), -0.2, params), 1, x);
        return x;
    }

    @Test
    void linear() {
        GradientCheck.check(new Linear(factory, "fc", 7, 5), input(4, 7), kernels);
    }

    @Test
    void linearWithoutBias() {
        GradientCheck.check(new Linear(factory, "fc", 6, 3, false), input(2, 6), kernels);
    }

    @Test
    void conv2d() {
        GradientCheck.check(new Conv2d(factory, "conv", 2, 3, 3, 1, 1), input(2, 2, 6, 5), kernels);
    }

    @Test
    void groupedStridedDilatedConv2d() {
        GradientCheck.check(new Conv2d(factory, "conv", 4, 6, 3, 2, 2, 1, 2, 2, true), input(2, 4, 9, 8), kernels);
    }

    @Test
    void maxAndAvgPooling() {
        GradientCheck.check(Pool2d.max("pool", 2), input(2, 3, 6, 6), kernels);
        GradientCheck.check(Pool2d.avg("pool", 2), input(2, 3, 6, 6), kernels);
        GradientCheck.check(new Pool2d("pool", org.streamdl.tensor.spi.Pool2dSpec.Kind.AVG, 3, 2, 1), input(1, 2, 7, 7), kernels);
    }

    @Test
    void reluAwayFromItsKink() {
        GradientCheck.check(new Relu("relu"), awayFromZero(3, 8), kernels);
    }

    @Test
    void sequentialWithFusedRelu() {
        Sequential net = Sequential.of("net",
                new Linear(factory, "fc1", 5, 8), new Relu("relu1"), new Linear(factory, "fc2", 8, 3));
        GradientCheck.check(net, input(4, 5), kernels);
    }

    /**
     * The fused conv-ReLU-pool block gives the same outputs and gradients as the three layers run one
     * by one (each of which has its own gradient check; a check through the block itself would cross
     * ReLU and max-pool kinks within ε).
     */
    @Test
    void convReluPoolBlockRunsFusedWithTheSameResultsAsSeparateLayers() {
        Conv2d fusedConv = new Conv2d(new ParameterFactory(params, 11), "conv", 2, 3, 3, 1, 1);
        Sequential fused = Sequential.of("fused", fusedConv, new Relu("relu"), Pool2d.max("pool", 2));
        Conv2d plainConv = new Conv2d(new ParameterFactory(params, 11), "conv", 2, 3, 3, 1, 1);
        Sequential separate = Sequential.of("separate", plainConv, new Relu("relu"), Activation.identity("id"),
                Pool2d.max("pool", 2));
        assertEquals("conv (Conv2d 2→3, 3x3 +relu +MaxPool2d)", fusedConv.toString());
        assertEquals("conv (Conv2d 2→3, 3x3 +relu)", plainConv.toString());
        Tensor x = input(2, 2, 6, 6);
        try (Allocator step = Allocator.root("step", 16L << 20)) {
            Context ctx = Context.training(step, kernels, new Rng(1));
            Tensor yFused = fused.forward(x, ctx);
            Tensor ySeparate = separate.forward(x, ctx);
            org.streamdl.tensor.testing.TensorAssertions.assertClose(ySeparate, yFused,
                    org.streamdl.tensor.testing.Tolerance.rtolAtol(1e-6, 1e-7));
            Tensor dy = input(2, 3, 3, 3);
            Tensor dxFused = fused.backward(dy, ctx);
            Tensor dxSeparate = separate.backward(dy, ctx);
            org.streamdl.tensor.testing.TensorAssertions.assertClose(dxSeparate, dxFused,
                    org.streamdl.tensor.testing.Tolerance.rtolAtol(1e-5, 1e-7));
            for (int i = 0; i < 2; i++) {
                org.streamdl.tensor.testing.TensorAssertions.assertClose(plainConv.parameters().get(i).grad(),
                        fusedConv.parameters().get(i).grad(), org.streamdl.tensor.testing.Tolerance.rtolAtol(1e-5, 1e-7));
            }
        }
    }

    @Test
    void flattenPassesGradientsThroughTheReshape() {
        GradientCheck.check(Sequential.of("net", new Flatten("flat"), new Linear(factory, "fc", 12, 2)),
                input(2, 3, 2, 2), kernels);
    }

    @Test
    void pointwiseActivations() {
        GradientCheck.check(Activation.sigmoid("sigmoid"), input(3, 7), kernels);
        GradientCheck.check(Activation.tanh("tanh"), input(3, 7), kernels);
        GradientCheck.check(Activation.leakyRelu("leaky", 0.1), awayFromZero(3, 7), kernels);
        GradientCheck.check(Activation.gelu("gelu"), input(3, 7), kernels);
        GradientCheck.check(Activation.identity("id"), input(3, 7), kernels);
    }

    @Test
    void softmaxAndLogSoftmax() {
        GradientCheck.check(Softmax.softmax("softmax"), input(4, 6), kernels);
        GradientCheck.check(Softmax.logSoftmax("logsoftmax"), input(4, 6), kernels);
    }

    @Test
    void globalAveragePoolingAndReshape() {
        GradientCheck.check(new GlobalAvgPool2d("gap"), input(2, 3, 4, 5), kernels);
        GradientCheck.check(Sequential.of("net", new Reshape("r", 3, -1), new Linear(factory, "fc", 4, 2)).layers().get(0),
                input(2, 12), kernels);
    }

    @Test
    void geluMatchesItsDefinition() {
        // x·Φ(x): Φ(1) = 0.8413447460685429, Φ(-0.5) = 0.3085375387259869
        assertEquals(0.8413447460685429, Activation.cdf(1), 2e-7);
        assertEquals(0.3085375387259869, Activation.cdf(-0.5), 2e-7);
    }

    @Test
    void dropoutZeroesAboutPAndScalesTheRestOnlyInTraining() {
        Dropout dropout = new Dropout("drop", 0.25);
        try (Allocator step = Allocator.root("step", 16L << 20)) {
            Tensor x = step.allocate(DType.FLOAT32, 100, 100);
            Elementwise.fill(x, 1);
            Tensor y = dropout.forward(x, Context.training(step, kernels, new Rng(5)));
            float[] v = org.streamdl.tensor.ops.Convert.toFloatArray(y);
            int zeros = 0;
            for (float f : v) {
                zeros += f == 0 ? 1 : 0;
                if (f != 0) {
                    assertEquals(1 / 0.75f, f, 1e-6);
                }
            }
            assertEquals(2500, zeros, 200);
            assertEquals(x, dropout.forward(x, Context.inference(step, kernels)));
            GradientCheck.check(new Dropout("drop", 0.5), input(3, 4), kernels);
        }
    }

    @Test
    void layersRefuseWronglyShapedInputNamingThemselves() {
        Conv2d conv = new Conv2d(factory, "conv1", 1, 6, 5, 1, 2);
        try (Allocator step = Allocator.root("step", 16L << 20)) {
            Context ctx = Context.training(step, kernels, new Rng(1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> conv.forward(step.allocate(DType.FLOAT32, 128, 784), ctx));
            assertEquals("conv1 (Conv2d 1→6, 5x5): expected input (N, 1, H, W) but got (128, 784); reshape it to (N, C, H, W)",
                    e.getMessage());
            Linear fc = new Linear(factory, "fc1", 400, 120);
            IllegalArgumentException l = assertThrows(IllegalArgumentException.class,
                    () -> fc.forward(step.allocate(DType.FLOAT32, Shape.of(8, 16, 5, 5)), ctx));
            assertEquals("fc1 (Linear 400→120): expected input (N, 400) but got (8, 16, 5, 5); flatten it first",
                    l.getMessage());
        }
    }
}
