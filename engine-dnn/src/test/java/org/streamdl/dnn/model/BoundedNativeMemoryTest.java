package org.streamdl.dnn.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.losses.SoftmaxCrossEntropy;
import org.streamdl.dnn.optim.Sgd;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.RandomFill;

/**
 * LeNet-5 and the MLP with batch sizes drawn from 1 to 256, as a micro-batching scorer or an online
 * trainer meets them, in a JVM whose direct memory is 64 MiB (the {@code small-direct-memory}
 * Surefire execution). Before the plans and pools were bounded, inference of LeNet-5 exhausted 256 MiB
 * after 23 calls. What the model holds (live and pooled) must stop growing once warm.
 */
@Tag("small-direct-memory")
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class BoundedNativeMemoryTest {
    private static final int MAX_BATCH = 256;

    /** One inference or training call on a batch of {@code rows}. */
    private interface Call {
        void run(int index, int rows);
    }

    private static Model model(String name) {
        Kernels kernels = Kernels.create(2);
        assertEquals("dnnl", kernels.backendName(), "these tests mean oneDNN's plans");
        return name.equals("lenet5") ? Models.lenet5(42, kernels) : Models.mlp(42, kernels);
    }

    private static Tensor images(Allocator inputs, Rng rng) {
        Tensor images = inputs.allocate(DType.FLOAT32, MAX_BATCH, 1, 28, 28);
        RandomFill.uniform(images, 0, 1, rng);
        return images;
    }

    private static long held(Model model) {
        return model.allocator().usedBytes() + model.allocator().pooledBytes();
    }

    @ParameterizedTest
    @ValueSource(strings = {"lenet5", "mlp"})
    void inferenceWithVaryingBatchSizesStaysFlat(String name) {
        try (Model model = model(name); Allocator inputs = Allocator.root("inputs", 16L << 20)) {
            assertEquals(64L << 20, Allocator.directMemoryLimitBytes());
            Rng rng = new Rng(7);
            Tensor images = images(inputs, rng);
            runAndCheckFlat(2000, 700, model, (call, rows) -> {
                try (Allocator batch = inputs.newChild("batch")) {
                    Tensor y = model.predict(images.narrow(0, 0, rows), batch);
                    assertEquals(rows, y.shape().dim(0));
                }
            }, rng);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"lenet5", "mlp"})
    void trainingWithVaryingBatchSizesStaysFlat(String name) {
        try (Model model = model(name); Allocator inputs = Allocator.root("inputs", 16L << 20)) {
            Sgd sgd = new Sgd(model.allocator(), 0.01, 0.9);
            Rng rng = new Rng(11);
            Tensor images = images(inputs, rng);
            int steps = name.equals("lenet5") ? 400 : 1000;
            runAndCheckFlat(steps, steps / 3, model, (step, rows) -> {
                try (Allocator batch = inputs.newChild("batch");
                     Allocator memory = model.allocator().newChild("train-step")) {
                    Tensor x = images.narrow(0, 0, rows);
                    Tensor labels = batch.allocate(DType.INT32, rows);
                    for (int i = 0; i < rows; i++) {
                        labels.set(rng.nextInt(10), i);
                    }
                    Context ctx = Context.training(memory, model.kernels(), rng);
                    SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
                    double value = loss.forward(model.network().forward(x, ctx), labels, memory);
                    assertTrue(Double.isFinite(value), "loss at step " + step);
                    model.network().backward(loss.gradient(memory), ctx);
                    sgd.step(model.parameters());
                }
            }, rng);
        }
    }

    /**
     * Runs {@code calls} calls with random batch sizes; after {@code warmUp} calls, neither the model's
     * held bytes nor the process's direct memory may pass what they reached during the warm-up by more
     * than a pool's worth of slack (a size class first met late).
     */
    private static void runAndCheckFlat(int calls, int warmUp, Model model, Call call, Rng rng) {
        long warmHeld = 0;
        long warmReserved = 0;
        long laterHeld = 0;
        long laterReserved = 0;
        for (int i = 0; i < calls; i++) {
            int rows = 1 + rng.nextInt(MAX_BATCH);
            call.run(i, rows);
            long held = held(model);
            long reserved = Allocator.directMemoryReservedBytes();
            if (i < warmUp) {
                warmHeld = Math.max(warmHeld, held);
                warmReserved = Math.max(warmReserved, reserved);
            } else {
                laterHeld = Math.max(laterHeld, held);
                laterReserved = Math.max(laterReserved, reserved);
            }
        }
        long slack = 4L << 20;
        assertTrue(laterHeld <= warmHeld + slack, "held " + laterHeld + " bytes after warm-up, " + warmHeld + " during it\n"
                + model.allocator().describeLive());
        assertTrue(laterReserved <= warmReserved + slack, "the process reserved " + laterReserved
                + " bytes of direct memory after warm-up, " + warmReserved + " during it");
        assertTrue(model.kernels().planCount() <= Kernels.MAX_PLANS, model.kernels().planCount() + " plans");
    }
}
