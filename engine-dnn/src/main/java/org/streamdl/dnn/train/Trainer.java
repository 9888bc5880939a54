package org.streamdl.dnn.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.data.Dataset;
import org.streamdl.dnn.losses.Loss;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.optim.Optimizer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Tensor;

/**
 * Trains a model in this JVM: epochs of seeded-shuffled mini-batches, a progress line every
 * {@code logEvery} iterations (loss, images/s, ETA), an epoch summary with validation accuracy, and
 * early stopping when validation accuracy has not improved for {@code patience} epochs.
 *
 * <pre>{@code
 * TrainingReport report = Trainer.builder(model, SoftmaxCrossEntropy::new, sgd)
 *     .batchSize(128).epochs(3).seed(42).build()
 *     .fit(train, test);
 * }</pre>
 */
public final class Trainer {
    private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

    /** Called after every training step with the step's timing, for benchmarks and metrics. */
    @FunctionalInterface
    public interface StepListener {
        void onStep(int epoch, int iteration, int batchSize, long nanos, double loss);
    }

    private final Model model;
    private final Supplier<Loss> loss;
    private final Optimizer optimizer;
    private final int batchSize;
    private final int epochs;
    private final long seed;
    private final boolean shuffle;
    private final int maxIterations;
    private final int logEvery;
    private final int patience;
    private final StepListener listener;
    private final java.nio.file.Path checkpoint;
    private final org.streamdl.dnn.model.ModelFile.Contents resumeFrom;

    private Trainer(Builder b) {
        this.model = b.model;
        this.loss = b.loss;
        this.optimizer = b.optimizer;
        this.batchSize = b.batchSize;
        this.epochs = b.epochs;
        this.seed = b.seed;
        this.shuffle = b.shuffle;
        this.maxIterations = b.maxIterations;
        this.logEvery = b.logEvery;
        this.patience = b.patience;
        this.listener = b.listener;
        this.checkpoint = b.checkpoint;
        this.resumeFrom = b.resumeFrom;
    }

    public static Builder builder(Model model, Supplier<Loss> loss, Optimizer optimizer) {
        return new Builder(model, loss, optimizer);
    }

    /** What a run did, epoch by epoch. */
    public record EpochResult(int epoch, double meanLoss, double trainImagesPerSecond, double validationAccuracy) {}

    public record TrainingReport(List<EpochResult> epochs, boolean stoppedEarly) {
        public EpochResult last() {
            return epochs.get(epochs.size() - 1);
        }
    }

    /** Trains on {@code train}; {@code validation} (may be null) is scored after each epoch. */
    public TrainingReport fit(Dataset train, Dataset validation) {
        Checks.argument(train.size() > 0, "the training set is empty");
        Rng rng = new Rng(seed);
        Rng layerRng = rng.split();
        int firstEpoch = 1;
        long samplesApplied = 0;
        int[] order = new int[train.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        if (resumeFrom != null) {
            Map<String, String> p = resumeFrom.provenance();
            Checks.argument(p.containsKey("trainer.epoch"), "the checkpoint was not written by a Trainer (no trainer.epoch)");
            firstEpoch = Integer.parseInt(p.get("trainer.epoch")) + 1;
            samplesApplied = Long.parseLong(p.get("trainer.samplesApplied"));
            rng = Rng.fromState(parseState(p.get("trainer.rng")));
            layerRng = Rng.fromState(parseState(p.get("trainer.layerRng")));
            order = parseOrder(p.get("trainer.order"), train.size());
            optimizer.loadState(resumeFrom.optimizerState(), Long.parseLong(p.get("trainer.optimizerSteps")));
            LOG.info("resuming after epoch {} ({} samples applied)", firstEpoch - 1, samplesApplied);
        }
        int iterations = (train.size() + batchSize - 1) / batchSize;
        if (maxIterations > 0) {
            iterations = Math.min(iterations, maxIterations);
        }
        List<EpochResult> results = new ArrayList<>();
        double best = Double.NEGATIVE_INFINITY;
        int sinceBest = 0;
        boolean stoppedEarly = false;
        try (Allocator epochMemory = model.allocator().newChild("training")) {
            Tensor features = epochMemory.allocate(DType.FLOAT32, Evaluation.batchShape(batchSize, train.sampleShape()));
            Tensor labels = epochMemory.allocate(DType.INT32, batchSize);
            for (int epoch = firstEpoch; epoch <= epochs; epoch++) {
                if (shuffle) {
                    rng.shuffle(order);
                }
                double lossSum = 0;
                long images = 0;
                long nanos = 0;
                long epochStart = System.nanoTime();
                for (int it = 0; it < iterations; it++) {
                    int from = it * batchSize;
                    int count = Math.min(batchSize, train.size() - from);
                    Tensor x = count == batchSize ? features : features.narrow(0, 0, count);
                    Tensor y = count == batchSize ? labels : labels.narrow(0, 0, count);
                    train.fill(order, from, count, x, y);
                    long start = System.nanoTime();
                    double stepLoss = step(x, y, epochMemory, layerRng);
                    long elapsed = System.nanoTime() - start;
                    lossSum += stepLoss * count;
                    images += count;
                    nanos += elapsed;
                    if (listener != null) {
                        listener.onStep(epoch, it, count, elapsed, stepLoss);
                    }
                    if (logEvery > 0 && (it + 1) % logEvery == 0) {
                        double rate = images / ((System.nanoTime() - epochStart) / 1e9);
                        double eta = (iterations - it - 1) * (double) batchSize / rate;
                        LOG.info(String.format(Locale.ROOT, "epoch %d/%d iteration %d/%d loss %.4f %.0f img/s ETA %.0f s",
                                epoch, epochs, it + 1, iterations, stepLoss, rate, eta));
                    }
                }
                samplesApplied += images;
                if (checkpoint != null) {
                    writeCheckpoint(epoch, samplesApplied, rng, layerRng, order);
                }
                double accuracy = validation == null ? Double.NaN : Evaluation.accuracy(model, validation, 1000);
                EpochResult result = new EpochResult(epoch, lossSum / images, images / (nanos / 1e9), accuracy);
                results.add(result);
                LOG.info(String.format(Locale.ROOT, "epoch %d/%d done: mean loss %.4f, %.0f train img/s, validation accuracy %.4f",
                        epoch, epochs, result.meanLoss(), result.trainImagesPerSecond(), accuracy));
                if (patience > 0 && validation != null) {
                    if (accuracy > best) {
                        best = accuracy;
                        sinceBest = 0;
                    } else if (++sinceBest >= patience) {
                        LOG.info("stopping early: validation accuracy has not improved for {} epochs", patience);
                        stoppedEarly = true;
                        break;
                    }
                }
            }
        }
        return new TrainingReport(results, stoppedEarly);
    }

    /** The model, optimizer state and everything needed to continue exactly after {@code epoch}. */
    private void writeCheckpoint(int epoch, long samplesApplied, Rng rng, Rng layerRng, int[] order) {
        Map<String, String> provenance = new java.util.LinkedHashMap<>();
        provenance.put("trainer.epoch", Integer.toString(epoch));
        provenance.put("trainer.samplesApplied", Long.toString(samplesApplied));
        provenance.put("trainer.optimizerSteps", Long.toString(optimizer.steps()));
        provenance.put("trainer.rng", joinState(rng.state()));
        provenance.put("trainer.layerRng", joinState(layerRng.state()));
        provenance.put("trainer.order", joinOrder(order));
        provenance.put("trainer.batchSize", Integer.toString(batchSize));
        provenance.put("trainer.seed", Long.toString(seed));
        provenance.put("backend", model.kernels().backendName());
        try {
            org.streamdl.dnn.model.ModelFile.write(checkpoint, model, optimizer.state(), provenance);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("writing checkpoint " + checkpoint + " failed", e);
        }
    }

    private static String joinState(long[] state) {
        StringBuilder sb = new StringBuilder();
        for (long v : state) {
            sb.append(sb.length() == 0 ? "" : ",").append(v);
        }
        return sb.toString();
    }

    private static long[] parseState(String text) {
        return java.util.Arrays.stream(text.split(",")).mapToLong(Long::parseLong).toArray();
    }

    /** The shuffled order, so a resumed epoch reshuffles the same permutation (Fisher–Yates is not order-free). */
    private static String joinOrder(int[] order) {
        StringBuilder sb = new StringBuilder(order.length * 6);
        for (int i = 0; i < order.length; i++) {
            sb.append(i == 0 ? "" : ",").append(order[i]);
        }
        return sb.toString();
    }

    private static int[] parseOrder(String text, int size) {
        int[] order = java.util.Arrays.stream(text.split(",")).mapToInt(Integer::parseInt).toArray();
        Checks.argument(order.length == size, "the checkpoint's sample order has %s entries but the dataset has %s samples",
                order.length, size);
        return order;
    }

    /** One forward, backward and update; every temporary lives in a step allocator freed at the end. */
    private double step(Tensor x, Tensor y, Allocator parent, Rng rng) {
        try (Allocator step = parent.newChild("train-step")) {
            Context ctx = Context.training(step, model.kernels(), rng);
            Loss lossFn = loss.get();
            Tensor logits = model.network().forward(x, ctx);
            double value = lossFn.forward(logits, y, step);
            model.network().backward(lossFn.gradient(step), ctx);
            optimizer.step(model.parameters());
            return value;
        }
    }

    public static final class Builder {
        private final Model model;
        private final Supplier<Loss> loss;
        private final Optimizer optimizer;
        private int batchSize = 32;
        private int epochs = 1;
        private long seed = 42;
        private boolean shuffle = true;
        private int maxIterations;
        private int logEvery = 100;
        private int patience;
        private StepListener listener;
        private java.nio.file.Path checkpoint;
        private org.streamdl.dnn.model.ModelFile.Contents resumeFrom;

        private Builder(Model model, Supplier<Loss> loss, Optimizer optimizer) {
            this.model = model;
            this.loss = loss;
            this.optimizer = optimizer;
        }

        public Builder batchSize(int n) {
            Checks.argument(n > 0, "batchSize must be > 0 but was %s", n);
            this.batchSize = n;
            return this;
        }

        public Builder epochs(int n) {
            Checks.argument(n > 0, "epochs must be > 0 but was %s", n);
            this.epochs = n;
            return this;
        }

        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        public Builder shuffle(boolean s) {
            this.shuffle = s;
            return this;
        }

        /** Stops each epoch after this many iterations (0: the whole epoch). */
        public Builder maxIterations(int n) {
            Checks.argument(n >= 0, "maxIterations must be >= 0 but was %s", n);
            this.maxIterations = n;
            return this;
        }

        /** A progress line every n iterations (0: none). */
        public Builder logEvery(int n) {
            Checks.argument(n >= 0, "logEvery must be >= 0 but was %s", n);
            this.logEvery = n;
            return this;
        }

        /** Stop after this many epochs without a better validation accuracy (0: never). */
        public Builder earlyStoppingPatience(int epochsWithoutImprovement) {
            Checks.argument(epochsWithoutImprovement >= 0, "patience must be >= 0");
            this.patience = epochsWithoutImprovement;
            return this;
        }

        public Builder listener(StepListener l) {
            this.listener = l;
            return this;
        }

        /** Writes the model, optimizer state and trainer position to this model file after every epoch. */
        public Builder checkpointTo(java.nio.file.Path file) {
            this.checkpoint = file;
            return this;
        }

        /**
         * Continues from a checkpoint read with {@code ModelFile.read}: its model must be the one this
         * trainer trains; the optimizer state, sample order and generators continue where they stopped.
         */
        public Builder resumeFrom(org.streamdl.dnn.model.ModelFile.Contents contents) {
            Checks.argument(contents.model() == model, "resume: train the checkpoint's own model (contents.model())");
            this.resumeFrom = contents;
            return this;
        }

        public Trainer build() {
            return new Trainer(this);
        }
    }
}
