package org.streamdl.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Properties;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.data.InMemoryDataset;
import org.streamdl.dnn.losses.SoftmaxCrossEntropy;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.Models;
import org.streamdl.dnn.optim.Sgd;
import org.streamdl.dnn.train.Evaluation;
import org.streamdl.flink.connector.decode.DecodedSamples;
import org.streamdl.flink.connector.formats.AvroRecords;
import org.streamdl.flink.connector.formats.AvroSampleFormat;
import org.streamdl.flink.connector.formats.SampleSpec;
import org.streamdl.flink.connector.kafka.KafkaSamples;
import org.streamdl.flink.connector.kafka.KafkaSinks;
import org.streamdl.flink.connector.kafka.embedded.EmbeddedKafkaBroker;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.flink.training.DistributedTraining;
import org.streamdl.flink.training.ModelBytes;
import org.streamdl.flink.training.TrainingRecipe;
import org.streamdl.serving.ServingConfig;
import org.streamdl.serving.ServingJob;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/**
 * The one-command demo, all in one JVM: Fashion-MNIST training images go to a topic of an
 * in-process Kafka broker (with three malformed records among them), a Flink job on an embedded
 * MiniCluster reads the topic, writes what does not decode to a dead-letter topic (exactly once, with
 * each record's reason) and trains LeNet-5 with two data-parallel workers; the client then reads the
 * dead letters back and scores the final model on the test images. Then the serving job scores the
 * test images again from their own topic with the final model, writing predictions to a topic
 * exactly once, and the client reads them back: the same accuracy, now through Kafka and Flink.
 *
 * <pre>
 * ./mvnw -q -pl examples -am -DskipTests install exec:exec     # -Ddemo.args="--epochs 3 --train-images 20000"
 * </pre>
 */
public final class FashionMnistDemo {
    static final String TOPIC = "fashion-mnist-train";
    static final String DEAD_LETTERS = "fashion-mnist-dead-letters";
    static final String TEST_TOPIC = "fashion-mnist-test";
    static final String PREDICTIONS = "fashion-mnist-predictions";
    static final String UNSCORABLE = "fashion-mnist-unscorable";
    static final int MALFORMED = 3;
    private static final int BATCH = 128;

    /** What to run: where the IDX files are, how much of them, how long, how wide. */
    record Options(Path data, int trainImages, int testImages, int epochs, int workers) {
        static Options parse(String[] args) {
            Path data = Path.of("/usr/share/datasets/fashion-mnist");
            int train = 60_000;
            int test = 10_000;
            int epochs = 2;
            int workers = 2;
            for (int i = 0; i < args.length; i++) {
                String value = i + 1 < args.length ? args[i + 1] : null;
                switch (args[i]) {
                    case "--data" -> data = Path.of(require(args[i], value));
                    case "--train-images" -> train = positive(args[i], value);
                    case "--test-images" -> test = positive(args[i], value);
                    case "--epochs" -> epochs = positive(args[i], value);
                    case "--workers" -> workers = positive(args[i], value);
                    default -> throw new IllegalArgumentException("unknown option " + args[i]
                            + "; options: --data DIR --train-images N --test-images N --epochs N --workers N");
                }
                i++;
            }
            return new Options(data, train, test, epochs, workers);
        }

        private static String require(String option, String value) {
            if (value == null) {
                throw new IllegalArgumentException(option + " needs a value");
            }
            return value;
        }

        private static int positive(String option, String value) {
            try {
                int v = Integer.parseInt(require(option, value));
                if (v > 0) {
                    return v;
                }
            } catch (NumberFormatException ignored) {
                // reported below
            }
            throw new IllegalArgumentException(option + " needs a positive whole number but got '" + value + "'");
        }
    }

    /** What the run did. */
    record Result(int recordsSent, long samplesApplied, List<DeadLetter> deadLetters, List<ModelSnapshot> snapshots,
                  double testAccuracy, double trainingSeconds, int predictions, double servedAccuracy) {}

    private FashionMnistDemo() {}

    public static void main(String[] args) throws Exception {
        Options options;
        try {
            options = Options.parse(args);
            requireData(options.data());
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(2);
            return;
        }
        Result r = run(options);
        System.out.printf("sent %d records to '%s' (%d of them malformed on purpose); dead letters read back from '%s':%n",
                r.recordsSent(), TOPIC, MALFORMED, DEAD_LETTERS);
        for (DeadLetter d : r.deadLetters()) {
            System.out.printf("dead letter from %s: %s%n", d.origin(), d.reason());
        }
        for (ModelSnapshot s : r.snapshots()) {
            System.out.printf("model version %d after %d samples%n", s.version(), s.samplesApplied());
        }
        System.out.printf("trained LeNet-5 on %d samples (%d epochs, %d workers) in %.1f s: %.0f samples/s%n",
                r.samplesApplied(), options.epochs(), options.workers(), r.trainingSeconds(),
                r.samplesApplied() / r.trainingSeconds());
        System.out.printf("test accuracy of the final model on %d images: %.4f%n", options.testImages(), r.testAccuracy());
        System.out.printf("the serving job scored the %d test images from Kafka topic '%s' into '%s': %d predictions, "
                + "accuracy %.4f%n", options.testImages(), TEST_TOPIC, PREDICTIONS, r.predictions(), r.servedAccuracy());
    }

    private static void requireData(Path data) {
        for (String name : List.of("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                "t10k-labels-idx1-ubyte.gz")) {
            if (!Files.isReadable(data.resolve(name))) {
                throw new IllegalArgumentException("Fashion-MNIST is not at " + data.resolve(name)
                        + "; install Debian's package (sudo apt-get install dataset-fashion-mnist) or pass --data DIR");
            }
        }
    }

    /** L1's recipe: LeNet-5 (seed 42), softmax cross-entropy, SGD with learning rate 0.05 and momentum 0.9. */
    public static TrainingRecipe recipe() {
        return TrainingRecipe.of("lenet5", kernels -> Models.lenet5(42, kernels), SoftmaxCrossEntropy::new,
                state -> new Sgd(state, 0.05, 0.9));
    }

    /** Runs the whole demo: broker, records, training job, evaluation. */
    static Result run(Options options) throws Exception {
        requireData(options.data());
        InMemoryDataset train = InMemoryDataset.fashionMnist(options.data(), "train").head(options.trainImages());
        InMemoryDataset test = InMemoryDataset.fashionMnist(options.data(), "t10k").head(options.testImages());
        Path checkpoints = Files.createTempDirectory("streamdl-demo-checkpoints");
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.start()) {
            broker.createTopic(TOPIC, options.workers());
            broker.createTopic(DEAD_LETTERS, 1);
            System.out.printf("sending %d training images to Kafka topic '%s'%n", train.size(), TOPIC);
            int sent = produce(broker.bootstrapServers(), train);

            Configuration conf = new Configuration();
            conf.set(PipelineOptions.GENERIC_TYPES, false);
            conf.set(TaskManagerOptions.NUM_TASK_SLOTS, options.workers());
            // checkpoints go to files: each worker's state holds its share of the training images for the
            // later epochs, far past the 5 MiB the JobManager keeps in memory
            conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
            conf.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, checkpoints.toUri().toString());
            // a failure that keeps coming back ends the demo with its cause instead of restarting forever
            conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
            conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(1));
            StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(options.workers(), conf);
            env.enableCheckpointing(2000);   // the dead-letter topic is written exactly once, committed per checkpoint
            DecodedSamples samples = KafkaSamples.builder(broker.bootstrapServers(), "streamdl-demo", TOPIC)
                    .spec(SampleSpec.fashionMnist())
                    .startingOffsets(OffsetsInitializer.earliest())
                    .boundedAt(OffsetsInitializer.latest())
                    .build(env);
            samples.deadLetters().sinkTo(KafkaSinks.deadLetters(broker.bootstrapServers(), DEAD_LETTERS).build())
                    .name("dead letters to Kafka");
            DataStream<ModelSnapshot> models = DistributedTraining.of(recipe())
                    .parallelism(options.workers()).globalBatchSize(BATCH).epochs(options.epochs())
                    .maxBatchDelay(Duration.ZERO).snapshotEverySteps(200).build()
                    .train(samples.samples());
            DataStream.Collector<ModelSnapshot> snapshots = new DataStream.Collector<>();
            models.collectAsync(snapshots);
            System.out.printf("training LeNet-5 on Flink: %d workers, %d epochs, global batch %d%n", options.workers(),
                    options.epochs(), BATCH);
            long start = System.nanoTime();
            JobClient job = env.executeAsync("StreamDL demo: Fashion-MNIST from Kafka, LeNet-5 on " + options.workers()
                    + " workers");
            List<ModelSnapshot> versions = new ArrayList<>();
            try (CloseableIterator<ModelSnapshot> it = snapshots.getOutput()) {
                it.forEachRemaining(versions::add);   // read while the job runs: the collect sink's buffer is small
            }
            job.getJobExecutionResult().get();
            double seconds = (System.nanoTime() - start) / 1e9;
            List<DeadLetter> letters = new ArrayList<>();
            for (byte[] value : broker.readCommitted(DEAD_LETTERS, Duration.ofSeconds(30))) {
                letters.add(AvroRecords.decodeDeadLetter(value));
            }
            versions.sort(Comparator.comparingLong(ModelSnapshot::version));
            ModelSnapshot last = versions.get(versions.size() - 1);
            double accuracy;
            try (Model model = ModelBytes.read(last.modelFile(), "lenet5-v" + last.version(), Kernels.create(2)).model()) {
                accuracy = Evaluation.accuracy(model, test, 1000);
            }

            // the trained model serves the test set: Kafka in, the serving job, Kafka out exactly once
            Path modelFile = checkpoints.resolve("lenet5-final.sdlm");
            Files.write(modelFile, last.modelFile());
            broker.createTopic(TEST_TOPIC, options.workers());
            broker.createTopic(PREDICTIONS, options.workers());
            broker.createTopic(UNSCORABLE, 1);
            int[] labels = produceTest(broker.bootstrapServers(), test);
            System.out.printf("serving the final model: %d test images from '%s' through the serving job%n", test.size(),
                    TEST_TOPIC);
            StreamExecutionEnvironment serving = StreamExecutionEnvironment.createLocalEnvironment(options.workers(), conf);
            ServingJob.define(serving, ServingConfig.parse("--bootstrap-servers", broker.bootstrapServers(),
                    "--input-topic", TEST_TOPIC, "--predictions-topic", PREDICTIONS, "--dead-letters-topic", UNSCORABLE,
                    "--model", modelFile.toString(), "--feature-shape", "1,28,28", "--classes", "10",
                    "--checkpoint-interval-ms", "500", "--stop-at-latest"));
            serving.execute("StreamDL demo: serving LeNet-5 v" + last.version());
            int predictions = 0;
            int correct = 0;
            for (byte[] value : broker.readCommitted(PREDICTIONS, Duration.ofSeconds(30))) {
                Prediction p = AvroRecords.decodePrediction(value);
                predictions++;
                correct += p.predictedClass() == labels[Integer.parseInt(p.key().substring("test-".length()))] ? 1 : 0;
            }
            return new Result(sent, last.samplesApplied(), letters, versions, accuracy, seconds, predictions,
                    (double) correct / Math.max(1, test.size()));
        } finally {
            deleteRecursively(checkpoints);
        }
    }

    /** Sends the test images as keyed Avro samples (key {@code test-i}); returns their labels. */
    private static int[] produceTest(String bootstrapServers, InMemoryDataset test) throws Exception {
        int[] all = new int[test.size()];
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrapServers);
             Allocator allocator = Allocator.root("demo test images", 64L << 20)) {
            Tensor images = allocator.allocate(DType.FLOAT32, 1, 1, 28, 28);
            Tensor label = allocator.allocate(DType.INT32, 1);
            for (int i = 0; i < test.size(); i++) {
                test.fill(new int[] {i}, 0, 1, images, label);
                all[i] = Convert.toIntArray(label)[0];
                Sample sample = Sample.builder().key("test-" + i)
                        .feature(Sample.DEFAULT_FEATURE, TensorValue.ofFloats(Convert.toFloatArray(images), 1, 28, 28)).build();
                producer.send(new ProducerRecord<>(TEST_TOPIC, ("test-" + i).getBytes(), AvroSampleFormat.encode(sample)));
            }
            producer.flush();
        }
        return all;
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrapServers) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        return new KafkaProducer<>(p);
    }

    private static void deleteRecursively(Path root) throws IOException {
        try (java.util.stream.Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** Sends the training images as Avro samples, and three records that cannot be samples. */
    private static int produce(String bootstrapServers, InMemoryDataset train) throws Exception {
        int sent = 0;
        try (KafkaProducer<byte[], byte[]> producer = producer(bootstrapServers);
             Allocator allocator = Allocator.root("demo images", 64L << 20)) {
            int chunk = 1000;
            Tensor images = allocator.allocate(DType.FLOAT32, chunk, 1, 28, 28);
            Tensor labels = allocator.allocate(DType.INT32, chunk);
            for (int from = 0; from < train.size(); from += chunk) {
                int count = Math.min(chunk, train.size() - from);
                int[] indices = java.util.stream.IntStream.range(from, from + count).toArray();
                train.fill(indices, 0, count, images, labels);
                float[] pixels = Convert.toFloatArray(images);
                int[] classes = Convert.toIntArray(labels);
                for (int i = 0; i < count; i++) {
                    float[] one = java.util.Arrays.copyOfRange(pixels, i * 784, (i + 1) * 784);
                    byte[] value = AvroSampleFormat.encode(Sample.classified(TensorValue.ofFloats(one, 1, 28, 28), classes[i]));
                    producer.send(new ProducerRecord<>(TOPIC, ("train-" + (from + i)).getBytes(), value));
                    sent++;
                }
            }
            for (byte[] bad : malformed()) {
                producer.send(new ProducerRecord<>(TOPIC, "malformed".getBytes(), bad));
                sent++;
            }
            producer.flush();
        }
        return sent;
    }

    /** A record that is not Avro, an image of the wrong shape and one with a NaN pixel. */
    static List<byte[]> malformed() {
        float[] nan = new float[784];
        nan[100] = Float.NaN;
        return List.of("not a sample".getBytes(),
                AvroSampleFormat.encode(Sample.classified(TensorValue.ofFloats(new float[784], 784), 1)),
                AvroSampleFormat.encode(Sample.classified(TensorValue.ofFloats(nan, 1, 28, 28), 1)));
    }
}
