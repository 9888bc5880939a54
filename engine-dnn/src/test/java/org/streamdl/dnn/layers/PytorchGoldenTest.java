package org.streamdl.dnn.layers;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.streamdl.tensor.testing.TensorAssertions.assertClose;

import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.losses.ElementwiseLoss;
import org.streamdl.dnn.losses.Loss;
import org.streamdl.dnn.losses.NllLoss;
import org.streamdl.dnn.losses.SoftmaxCrossEntropy;
import org.streamdl.dnn.testing.Golden;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;
import org.streamdl.tensor.spi.Pool2dSpec;
import org.streamdl.tensor.testing.Tolerance;

/**
 * Layers and losses against PyTorch 1.13 (tools/golden/make_layer_golden.py): forward outputs,
 * input gradients and parameter gradients for a fixed upstream gradient, on both backends.
 */
class PytorchGoldenTest {
    private static final Tolerance CLOSE = Tolerance.rtolAtol(1e-4, 1e-5);
    private static final Golden GOLDEN = Golden.load();
    private Allocator a;

    @BeforeEach
    void open() {
        a = Allocator.root("golden", 256L << 20);
    }

    @AfterEach
    void close() {
        a.close();
    }

    /** Runs {@code layer} on the case's input and compares y, dx and every parameter gradient. */
    private void check(String name, Function<ParameterFactory, Layer> build, Kernels.Preference preference, boolean training) {
        try (Kernels kernels = Kernels.create(2, preference)) {
            Layer layer = build.apply(new ParameterFactory(a, 0));
            for (Parameter p : layer.parameters()) {
                String torchName = p.name().substring(p.name().lastIndexOf('.') + 1);
                Convert.copy(GOLDEN.tensor(name + ".param." + torchName, a), p.value());
            }
            for (org.streamdl.dnn.NamedTensor b : layer.buffers()) {
                String torchName = b.name().substring(b.name().lastIndexOf('.') + 1);
                if (!training && GOLDEN.has(name + ".buffer." + torchName)) {
                    Convert.copy(GOLDEN.tensor(name + ".buffer." + torchName, a), b.value());
                }
            }
            try (Allocator step = a.newChild("step", 64L << 20)) {
                Context ctx = new Context(step, training, kernels, new Rng(1));
                Tensor y = layer.forward(GOLDEN.tensor(name + ".x", a), ctx);
                assertClose(GOLDEN.tensor(name + ".y", a), y, CLOSE);
                Tensor dx = layer.backward(GOLDEN.tensor(name + ".dy", a), ctx);
                if (GOLDEN.has(name + ".dx")) {
                    assertClose(GOLDEN.tensor(name + ".dx", a), dx, CLOSE);
                }
                for (Parameter p : layer.parameters()) {
                    String torchName = p.name().substring(p.name().lastIndexOf('.') + 1);
                    assertClose(GOLDEN.tensor(name + ".grad." + torchName, a), p.grad(), CLOSE);
                }
                if (training) {
                    for (org.streamdl.dnn.NamedTensor b : layer.buffers()) {
                        String torchName = b.name().substring(b.name().lastIndexOf('.') + 1);
                        if (GOLDEN.has(name + ".buffer." + torchName)) {
                            assertClose(GOLDEN.tensor(name + ".buffer." + torchName, a), b.value(), CLOSE);
                        }
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void convolutions(Kernels.Preference k) {
        check("conv_grouped", p -> new Conv2d(p, "m", 4, 6, 3, 3, 2, 1, 2, 2, true), k, true);
        check("conv_lenet1", p -> new Conv2d(p, "m", 1, 6, 5, 1, 2), k, true);
        check("conv_transpose", p -> new ConvTranspose2d(p, "m", 4, 6, 3, 3, 2, 1, 1, 2, 1, true), k, true);
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void pooling(Kernels.Preference k) {
        check("maxpool", p -> new Pool2d("m", Pool2dSpec.Kind.MAX, 3, 2, 1), k, true);
        check("avgpool", p -> new Pool2d("m", Pool2dSpec.Kind.AVG, 3, 2, 1), k, true);
        check("global_avg_pool", p -> new GlobalAvgPool2d("m"), k, true);
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void linear(Kernels.Preference k) {
        check("linear", p -> new Linear(p, "m", 7, 5), k, true);
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void normalization(Kernels.Preference k) {
        check("batchnorm2d", p -> new BatchNorm(p, "m", 3), k, true);
        check("batchnorm2d_eval", p -> new BatchNorm(p, "m", 3), k, false);
        check("layernorm", p -> new LayerNorm(p, "m", 6), k, true);
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void activations(Kernels.Preference k) {
        check("gelu", p -> Activation.gelu("m"), k, true);
        check("leaky_relu", p -> Activation.leakyRelu("m", 0.1), k, true);
        check("sigmoid", p -> Activation.sigmoid("m"), k, true);
        check("tanh", p -> Activation.tanh("m"), k, true);
        check("softmax", p -> Softmax.softmax("m"), k, true);
        check("log_softmax", p -> Softmax.logSoftmax("m"), k, true);
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void embedding(Kernels.Preference k) {
        check("embedding", p -> new Embedding(p, "m", 10, 4), k, true);
    }

    private void checkLoss(String name, Loss loss) {
        double value = loss.forward(GOLDEN.tensor(name + ".x", a), GOLDEN.tensor(name + ".target", a), a);
        assertEquals(GOLDEN.tensor(name + ".loss", a).getDouble(0), value, 1e-5 * Math.max(1, Math.abs(value)), name);
        assertClose(GOLDEN.tensor(name + ".dx", a), loss.gradient(a), CLOSE);
    }

    @org.junit.jupiter.api.Test
    void losses() {
        checkLoss("cross_entropy", new SoftmaxCrossEntropy());
        checkLoss("cross_entropy_smoothed", new SoftmaxCrossEntropy(0.1));
        checkLoss("nll", new NllLoss());
        checkLoss("mse", ElementwiseLoss.mse());
        checkLoss("l1", ElementwiseLoss.l1());
        checkLoss("smooth_l1", ElementwiseLoss.smoothL1(1));
        checkLoss("bce_with_logits", ElementwiseLoss.bceWithLogits());
    }
}
