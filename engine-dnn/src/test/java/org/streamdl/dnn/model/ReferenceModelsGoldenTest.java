package org.streamdl.dnn.model;

import static org.streamdl.tensor.testing.TensorAssertions.assertClose;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.testing.ReferenceData;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.testing.Tolerance;

/**
 * PyTorch-trained LeNet-5 and MLP weights loaded into StreamDL reproduce PyTorch's logits on 256
 * Fashion-MNIST test images within 1e-4, on both backends.
 */
class ReferenceModelsGoldenTest {
    private static final Tolerance GOLDEN = Tolerance.rtolAtol(0, 1e-4);

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void lenet5ReproducesPytorchLogits(Kernels.Preference preference) {
        try (Model model = Models.lenet5(1, Kernels.create(2, preference));
             Allocator a = Allocator.root("test", 64L << 20)) {
            ReferenceData.loadWeights(model, "lenet5-weights");
            Tensor logits = model.predict(ReferenceData.images(a), a);
            assertClose(ReferenceData.tensor("lenet5_logits.f32", DType.FLOAT32, Shape.of(256, 10), a), logits, GOLDEN);
        }
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void mlpReproducesPytorchLogits(Kernels.Preference preference) {
        try (Model model = Models.mlp(1, Kernels.create(2, preference));
             Allocator a = Allocator.root("test", 64L << 20)) {
            ReferenceData.loadWeights(model, "mlp-weights");
            Tensor logits = model.predict(ReferenceData.images(a).reshape(256, 784), a);
            assertClose(ReferenceData.tensor("mlp_logits.f32", DType.FLOAT32, Shape.of(256, 10), a), logits, GOLDEN);
        }
    }
}
