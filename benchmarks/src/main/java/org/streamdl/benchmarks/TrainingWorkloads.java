package org.streamdl.benchmarks;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.data.InMemoryDataset;
import org.streamdl.dnn.losses.SoftmaxCrossEntropy;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.Models;
import org.streamdl.dnn.optim.Adam;
import org.streamdl.dnn.optim.Sgd;
import org.streamdl.dnn.train.Trainer;

/** L1 (LeNet-5, SGD) and M1 (MLP, Adam) training on Fashion-MNIST, timed per step. */
final class TrainingWorkloads {
    private TrainingWorkloads() {}

    /** Step times split into epoch 1 after its first 20 iterations, and epochs 2 and later. */
    private static final class Timing implements Trainer.StepListener {
        long steadyImages;
        long steadyNanos;
        long laterImages;
        long laterNanos;
        long allImages;
        long allNanos;

        @Override
        public void onStep(int epoch, int iteration, int batchSize, long nanos, double loss) {
            allImages += batchSize;
            allNanos += nanos;
            if (epoch == 1 && iteration >= 20) {
                steadyImages += batchSize;
                steadyNanos += nanos;
            } else if (epoch > 1) {
                laterImages += batchSize;
                laterNanos += nanos;
            }
        }
    }

    /**
     * Trains a throwaway copy of the network for a few steps and waits for the JIT to settle, so
     * the timed run measures StreamDL rather than HotSpot compiling it (PyTorch has no JIT to warm).
     * The measured model is a fresh one; nothing of the warm-up reaches it.
     */
    static void warmUp(java.util.function.Supplier<Model> network, int batchSize, InMemoryDataset train,
                               boolean adam, WorkloadRunner.Options options) {
        try (Model model = network.get()) {
            org.streamdl.dnn.optim.Optimizer optimizer = adam ? new Adam(model.allocator(), 1e-3)
                    : new Sgd(model.allocator(), 0.01, 0.9);
            Trainer.builder(model, SoftmaxCrossEntropy::new, optimizer).batchSize(batchSize).epochs(1).seed(7)
                    .maxIterations(150).logEvery(0).build().fit(train.head(batchSize * 150), null);
        }
        WorkloadRunner.settleJit();
    }

    static Map<String, Object> lenet5(WorkloadRunner.Options options) throws IOException {
        requireLocal(options);
        Path data = Path.of(options.data());
        InMemoryDataset train = InMemoryDataset.fashionMnist(data, "train");
        InMemoryDataset test = InMemoryDataset.fashionMnist(data, "t10k");
        warmUp(() -> Models.lenet5(1, Kernels.create(options.threads())), 128, train, false, options);
        Map<String, Object> figures = new LinkedHashMap<>();
        try (Model model = Models.lenet5(options.seed(), Kernels.create(options.threads()))) {
            figures.put("backend", model.kernels().backendName());
            Sgd sgd = new Sgd(model.allocator(), 0.05, 0.9);
            Timing timing = new Timing();
            long start = System.nanoTime();
            Trainer.TrainingReport report = Trainer.builder(model, SoftmaxCrossEntropy::new, sgd)
                    .batchSize(128).epochs(options.epochs()).seed(options.seed()).maxIterations(options.maxIterations())
                    .logEvery(100).listener(timing).build()
                    .fit(train, options.maxIterations() > 0 ? null : test);
            double wall = (System.nanoTime() - start) / 1e9;
            figures.put("train_img_s_epoch1_steady", rate(timing.steadyImages, timing.steadyNanos));
            if (timing.laterImages > 0) {
                figures.put("train_img_s_epochs2_3", rate(timing.laterImages, timing.laterNanos));
            }
            if (options.maxIterations() == 0) {
                figures.put("test_acc_epoch1", WorkloadRunner.round(report.epochs().get(0).validationAccuracy(), 4));
                figures.put("test_acc_epoch3", WorkloadRunner.round(report.last().validationAccuracy(), 4));
            }
            figures.put("wall_s_3_epochs_train", WorkloadRunner.round(wall, 2));
        }
        return figures;
    }

    static Map<String, Object> mlp(WorkloadRunner.Options options) throws IOException {
        requireLocal(options);
        Path data = Path.of(options.data());
        InMemoryDataset train = InMemoryDataset.fashionMnist(data, "train");
        InMemoryDataset test = InMemoryDataset.fashionMnist(data, "t10k");
        warmUp(() -> Models.mlp(1, Kernels.create(options.threads())), 256, train, true, options);
        Map<String, Object> figures = new LinkedHashMap<>();
        try (Model model = Models.mlp(options.seed(), Kernels.create(options.threads()))) {
            figures.put("backend", model.kernels().backendName());
            Adam adam = new Adam(model.allocator(), 1e-3);
            Timing timing = new Timing();
            Trainer.TrainingReport report = Trainer.builder(model, SoftmaxCrossEntropy::new, adam)
                    .batchSize(256).epochs(options.epochs()).seed(options.seed()).maxIterations(options.maxIterations())
                    .logEvery(100).listener(timing).build()
                    .fit(train, null);
            figures.put("train_img_s", rate(timing.allImages, timing.allNanos));
            if (options.maxIterations() == 0) {
                figures.put("test_acc_epoch3", WorkloadRunner.round(
                        org.streamdl.dnn.train.Evaluation.accuracy(model, test, 1000), 4));
            }
            report.last();
        }
        return figures;
    }

    private static double rate(long images, long nanos) {
        return nanos == 0 ? 0 : WorkloadRunner.round(images / (nanos / 1e9), 1);
    }

    private static void requireLocal(WorkloadRunner.Options options) {
        if (!options.engine().equals("local")) {
            throw new WorkloadRunner.UnsupportedWorkloadException("--engine " + options.engine()
                    + " (training through Flink arrives with distributed training)");
        }
    }
}
