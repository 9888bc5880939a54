package org.streamdl.dnn.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.data.InMemoryDataset;
import org.streamdl.dnn.layers.Linear;
import org.streamdl.dnn.layers.Relu;
import org.streamdl.dnn.layers.Sequential;
import org.streamdl.dnn.losses.SoftmaxCrossEntropy;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.optim.Sgd;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.ops.Convert;

class TrainerTest {
    @TempDir
    Path dir;

    /** Three Gaussian blobs in 4-D: separable, so a small MLP must learn them. */
    private static InMemoryDataset blobs(int n, long seed) {
        Rng rng = new Rng(seed);
        float[] features = new float[n * 4];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = rng.nextInt(3);
            for (int j = 0; j < 4; j++) {
                features[i * 4 + j] = (float) ((j == labels[i] ? 2.0 : 0.0) + 0.5 * rng.nextGaussian());
            }
        }
        return InMemoryDataset.ofFeatures(features, Shape.of(4), labels);
    }

    private static Model mlp(long seed) {
        Allocator allocator = Allocator.root("mlp", 16L << 20);
        ParameterFactory p = new ParameterFactory(allocator, seed);
        return new Model(Sequential.of("mlp", new Linear(p, "fc1", 4, 16), new Relu("relu"), new Linear(p, "fc2", 16, 3)),
                allocator, Kernels.create(1, Kernels.Preference.REFERENCE));
    }

    @Test
    void learnsSeparableClasses() {
        try (Model model = mlp(1)) {
            Trainer.TrainingReport report = Trainer.builder(model, SoftmaxCrossEntropy::new, new Sgd(model.allocator(), 0.1, 0.9))
                    .batchSize(32).epochs(5).seed(3).logEvery(0).build()
                    .fit(blobs(960, 1), blobs(300, 2));
            assertEquals(5, report.epochs().size());
            assertTrue(report.last().validationAccuracy() > 0.95, "accuracy " + report.last().validationAccuracy());
            assertTrue(report.last().meanLoss() < report.epochs().get(0).meanLoss());
        }
    }

    @Test
    void resumingFromACheckpointGivesTheSameWeightsAsAnUninterruptedRun() throws IOException {
        InMemoryDataset train = blobs(500, 5);     // 500 / 32: the last batch of each epoch is short
        float[] uninterrupted;
        try (Model model = mlp(7)) {
            Trainer.builder(model, SoftmaxCrossEntropy::new, new Sgd(model.allocator(), 0.05, 0.9))
                    .batchSize(32).epochs(3).seed(11).logEvery(0).build().fit(train, null);
            uninterrupted = Convert.toFloatArray(model.parameter("fc1.weight").value());
        }
        Path checkpoint = dir.resolve("checkpoint.sdlm");
        try (Model model = mlp(7)) {
            Trainer.builder(model, SoftmaxCrossEntropy::new, new Sgd(model.allocator(), 0.05, 0.9))
                    .batchSize(32).epochs(2).seed(11).logEvery(0).checkpointTo(checkpoint).build().fit(train, null);
        }
        ModelFile.Contents saved = ModelFile.read(checkpoint, Kernels.create(1, Kernels.Preference.REFERENCE));
        assertEquals("2", saved.provenance().get("trainer.epoch"));
        assertEquals("1000", saved.provenance().get("trainer.samplesApplied"));
        try (Model model = saved.model()) {
            Trainer.builder(model, SoftmaxCrossEntropy::new, new Sgd(model.allocator(), 0.05, 0.9))
                    .batchSize(32).epochs(3).seed(11).logEvery(0).resumeFrom(saved).build().fit(train, null);
            assertArrayEquals(uninterrupted, Convert.toFloatArray(model.parameter("fc1.weight").value()));
        }
    }

    @Test
    void stopsEarlyWhenValidationAccuracyStallsAndRespectsMaxIterations() {
        try (Model model = mlp(3)) {
            Trainer.TrainingReport report = Trainer.builder(model, SoftmaxCrossEntropy::new,
                            new Sgd(model.allocator(), 1e-9, 0))          // too small to move anything
                    .batchSize(50).epochs(20).seed(1).logEvery(0).earlyStoppingPatience(2).maxIterations(2).build()
                    .fit(blobs(400, 3), blobs(100, 4));
            assertTrue(report.stoppedEarly());
            assertEquals(3, report.epochs().size());
        }
    }
}
