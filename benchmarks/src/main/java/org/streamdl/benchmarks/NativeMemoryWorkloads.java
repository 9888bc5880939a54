package org.streamdl.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.MetricOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Metric;
import org.apache.flink.metrics.MetricConfig;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.metrics.reporter.MetricReporter;
import org.apache.flink.metrics.reporter.MetricReporterFactory;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.layers.Conv2d;
import org.streamdl.dnn.layers.Flatten;
import org.streamdl.dnn.layers.Linear;
import org.streamdl.dnn.layers.Pool2d;
import org.streamdl.dnn.layers.Relu;
import org.streamdl.dnn.layers.Sequential;
import org.streamdl.dnn.losses.SoftmaxCrossEntropy;
import org.streamdl.dnn.model.MemoryRequirement;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.model.Models;
import org.streamdl.dnn.optim.Sgd;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.flink.connector.serialization.StreamDLTypes;
import org.streamdl.flink.inference.Predictor;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.RandomFill;

/**
 * MEM1: the direct memory models need, the numbers behind docs/operations.md. For LeNet-5, the MLP
 * and a larger CNN (CIFAR-sized, 2.2M parameters): what inference at batch sizes up to 256 holds
 * ({@link MemoryRequirement#measureInference}) and what a training step at batch 128 holds; then a
 * {@code Predictor} job on the embedded cluster scoring 100,000 records that arrive in bursts (batches
 * of every size), with its {@code nativeHeldBytes} and {@code nativePooledBytes} gauges sampled every
 * 50 ms.
 */
final class NativeMemoryWorkloads {
    private static final int MAX_BATCH = 256;
    private static final int TRAINING_BATCH = 128;
    private static final int RECORDS = 100_000;

    private NativeMemoryWorkloads() {}

    static Map<String, Object> run(WorkloadRunner.Options options) throws Exception {
        Map<String, Object> figures = new LinkedHashMap<>();
        figures.put("direct_memory_limit_bytes", Allocator.directMemoryLimitBytes());
        for (String name : new String[] {"lenet5", "mlp", "cnn"}) {
            Shape sample = name.equals("cnn") ? Shape.of(3, 32, 32) : Shape.of(1, 28, 28);
            try (Model model = model(name, options.threads())) {
                MemoryRequirement inference = MemoryRequirement.measureInference(model, sample, MAX_BATCH);
                System.err.println("inference, batches up to " + MAX_BATCH + ": " + inference.describe());
                put(figures, name + "_inference", inference);
            }
            try (Model model = model(name, options.threads())) {
                MemoryRequirement training = trainingSteps(model, sample, 20);
                System.err.println("training, batch " + TRAINING_BATCH + ": " + training.describe());
                put(figures, name + "_training", training);
            }
        }
        predictorJob(options, figures);
        return figures;
    }

    private static void put(Map<String, Object> figures, String prefix, MemoryRequirement r) {
        figures.put(prefix + "_weights_bytes", r.weightsBytes());
        figures.put(prefix + "_plans_bytes", r.plansBytes());
        figures.put(prefix + "_activations_bytes", r.activationsBytes());
        figures.put(prefix + "_pooled_bytes", r.pooledBytes());
        figures.put(prefix + "_total_bytes", r.totalBytes());
    }

    static Model model(String name, int threads) {
        Kernels kernels = Kernels.create(threads);
        return switch (name) {
            case "lenet5" -> Models.lenet5(42, kernels);
            case "mlp" -> Models.mlp(42, kernels);
            default -> cnn(kernels);
        };
    }

    /** A VGG-style network for 3×32×32 images: two blocks of two 3×3 convolutions, then 4096-512-10. */
    private static Model cnn(Kernels kernels) {
        Allocator memory = Model.newMemory("cnn");
        ParameterFactory p = new ParameterFactory(memory, 42);
        Sequential net = Sequential.of("cnn",
                new Conv2d(p, "conv1", 3, 32, 3, 1, 1), new Relu("relu1"),
                new Conv2d(p, "conv2", 32, 32, 3, 1, 1), new Relu("relu2"), Pool2d.max("pool1", 2),
                new Conv2d(p, "conv3", 32, 64, 3, 1, 1), new Relu("relu3"),
                new Conv2d(p, "conv4", 64, 64, 3, 1, 1), new Relu("relu4"), Pool2d.max("pool2", 2),
                new Flatten("flatten"), new Linear(p, "fc1", 64 * 8 * 8, 512), new Relu("relu5"),
                new Linear(p, "fc2", 512, 10));
        return new Model(net, memory, kernels);
    }

    /** SGD with momentum on random images at a fixed batch: weights, gradients, velocities, plans, one step's peak. */
    private static MemoryRequirement trainingSteps(Model model, Shape sample, int steps) {
        Sgd sgd = new Sgd(model.allocator(), 0.01, 0.9);
        Rng rng = new Rng(1);
        try (Allocator batch = Allocator.root("training batch", 256L << 20)) {
            Tensor x = batch.allocate(DType.FLOAT32, sample.withBatch(TRAINING_BATCH));
            RandomFill.uniform(x, 0, 1, rng);
            Tensor labels = batch.allocate(DType.INT32, TRAINING_BATCH);
            for (int i = 0; i < TRAINING_BATCH; i++) {
                labels.set(rng.nextInt(10), i);
            }
            model.allocator().resetPeakBytes();
            for (int i = 0; i < steps; i++) {
                try (Allocator step = model.allocator().newChild("train-step")) {
                    Context ctx = Context.training(step, model.kernels(), rng);
                    SoftmaxCrossEntropy loss = new SoftmaxCrossEntropy();
                    loss.forward(model.network().forward(x, ctx), labels, step);
                    model.network().backward(loss.gradient(step), ctx);
                    sgd.step(model.parameters());
                }
            }
        }
        return MemoryRequirement.of(model);
    }

    /** The Predictor on the embedded cluster, P=1, its memory gauges sampled while 100,000 bursty records pass. */
    private static void predictorJob(WorkloadRunner.Options options, Map<String, Object> figures) throws Exception {
        Path dir = Files.createTempDirectory("streamdl-mem1");
        Path modelFile = dir.resolve("lenet5.sdlm");
        try (Model lenet = Models.lenet5(42, Kernels.create(1))) {
            ModelFile.write(modelFile, lenet, Map.of());
        }
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.setString("metrics.reporter.gauges.factory.class", GaugeSampler.Factory.class.getName());
        conf.set(MetricOptions.REPORTERS_LIST, "gauges");
        GaugeSampler.GAUGES.clear();
        long[] maxima = new long[2];
        long[] last = new long[2];
        ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
        sampler.scheduleAtFixedRate(() -> {
            long held = GaugeSampler.sum("nativeHeldBytes");
            long pooled = GaugeSampler.sum("nativePooledBytes");
            synchronized (maxima) {
                maxima[0] = Math.max(maxima[0], held);
                maxima[1] = Math.max(maxima[1], pooled);
                if (held > 0) {
                    last[0] = held;
                    last[1] = pooled;
                }
            }
        }, 0, 50, TimeUnit.MILLISECONDS);
        long start = System.nanoTime();
        try (SessionCluster cluster = SessionCluster.start(conf, 1)) {
            StreamExecutionEnvironment env = cluster.environment(conf, 1);
            DataStream<Sample> in = env.fromSequence(0, RECORDS - 1).map(new Bursty()).returns(StreamDLTypes.SAMPLE);
            Predictor.fromFile(modelFile.toString(), 1, 28, 28).threads(options.threads()).maxBatchSize(MAX_BATCH)
                    .maxBatchDelay(Duration.ofMillis(2)).build().predict(in).predictions().sinkTo(new DiscardingSink<>());
            env.execute("MEM1 predictor");
        } finally {
            sampler.shutdownNow();
        }
        synchronized (maxima) {
            figures.put("predictor_records", RECORDS);
            figures.put("predictor_wall_s", Math.round((System.nanoTime() - start) / 1e7) / 100.0);
            figures.put("predictor_held_bytes_max", maxima[0]);
            figures.put("predictor_pooled_bytes_max", maxima[1]);
            figures.put("predictor_held_bytes_end", last[0]);
            figures.put("predictor_pooled_bytes_end", last[1]);
        }
        Files.deleteIfExists(modelFile);
        Files.deleteIfExists(dir);
    }

    /** Records in bursts and pauses, so the predictor's batches take every size up to its maximum. */
    private static final class Bursty implements MapFunction<Long, Sample> {
        private transient Rng rng;
        private transient float[] pixels;

        @Override
        public Sample map(Long i) throws Exception {
            if (rng == null) {
                rng = new Rng(3);
                pixels = new float[28 * 28];
                for (int p = 0; p < pixels.length; p++) {
                    pixels[p] = rng.nextFloat();
                }
            }
            if (rng.nextInt(400) == 0) {
                Thread.sleep(1 + rng.nextInt(6));
            }
            return Sample.builder().key(Long.toString(i)).feature("input", TensorValue.ofFloats(pixels, 1, 28, 28)).build();
        }
    }

    /** A metric reporter that keeps the gauges it is given, so the runner can read them while a job runs. */
    public static final class GaugeSampler implements MetricReporter {
        static final Map<String, Gauge<?>> GAUGES = new ConcurrentHashMap<>();

        static long sum(String name) {
            long total = 0;
            for (Map.Entry<String, Gauge<?>> e : GAUGES.entrySet()) {
                if (e.getKey().endsWith("." + name) && e.getValue().getValue() instanceof Number n) {
                    total += n.longValue();
                }
            }
            return total;
        }

        @Override
        public void open(MetricConfig config) {}

        @Override
        public void close() {}

        @Override
        public void notifyOfAddedMetric(Metric metric, String name, MetricGroup group) {
            if (metric instanceof Gauge<?> gauge && name.startsWith("native")) {
                GAUGES.put(group.getMetricIdentifier(name), gauge);
            }
        }

        @Override
        public void notifyOfRemovedMetric(Metric metric, String name, MetricGroup group) {
            GAUGES.remove(group.getMetricIdentifier(name));
        }

        /** How Flink creates the reporter from {@code metrics.reporter.<name>.factory.class}. */
        public static final class Factory implements MetricReporterFactory {
            @Override
            public MetricReporter createMetricReporter(Properties properties) {
                return new GaugeSampler();
            }
        }
    }
}
