package org.streamdl.serving;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.losses.NllLoss;
import org.streamdl.dnn.losses.SoftmaxCrossEntropy;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.Models;
import org.streamdl.dnn.onnx.OnnxFormatException;
import org.streamdl.dnn.onnx.OnnxImporter;
import org.streamdl.dnn.optim.Adam;
import org.streamdl.dnn.optim.Sgd;
import org.streamdl.flink.connector.decode.DecodedSamples;
import org.streamdl.flink.connector.files.FileSamples;
import org.streamdl.flink.connector.files.ModelFileSink;
import org.streamdl.flink.connector.formats.CsvSampleFormat;
import org.streamdl.flink.connector.formats.SampleSpec;
import org.streamdl.flink.connector.kafka.KafkaSamples;
import org.streamdl.flink.connector.kafka.KafkaSinks;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.training.DistributedTraining;
import org.streamdl.flink.training.ModelBytes;
import org.streamdl.flink.training.TrainingRecipe;
import org.streamdl.tensor.DType;

/**
 * The training job: samples from a Kafka topic (Avro; online, or bounded with
 * {@code --stop-at-latest}) or from IDX or CSV files (bounded, {@code --epochs}), records that do
 * not decode to a dead-letter topic with their reason, data-parallel training of a new network
 * ({@code --architecture}) or of a model file or ONNX model ({@code --model}), and model snapshots
 * every N steps or T seconds and at the end, to a directory (a file per version, written
 * atomically) and/or a Kafka topic of {@code ModelSnapshot} records (exactly once). Every snapshot
 * carries its provenance: samples applied, steps, time and the job's options. {@link #main} takes
 * the options ({@code --help} lists them, {@link TrainingConfig}); {@link #define} adds the
 * pipeline to a program's environment.
 */
public final class TrainingJob {
    private static final Logger LOG = LoggerFactory.getLogger(TrainingJob.class);

    private TrainingJob() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println(TrainingConfig.USAGE);
            return;
        }
        TrainingConfig config;
        try {
            config = TrainingConfig.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println(TrainingConfig.USAGE);
            System.exit(2);
            return;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        define(env, config);
        env.execute(name(config));
    }

    static String name(TrainingConfig c) {
        String input = c.inputTopic() != null ? c.inputTopic() : c.idxImages() != null ? c.idxImages() : c.csvFile();
        return "StreamDL training: " + c.modelName() + " on " + input;
    }

    /**
     * Adds the training pipeline to {@code env} and turns on exactly-once checkpoints. The model
     * (file or architecture) is built here once, so a bad one stops the job before it is submitted.
     */
    public static void define(StreamExecutionEnvironment env, TrainingConfig c) throws IOException {
        env.enableCheckpointing(c.checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
        if (c.parallelism() > 0) {
            env.setParallelism(c.parallelism());
        }
        SampleSpec spec = SampleSpec.builder().feature(Sample.DEFAULT_FEATURE, DType.FLOAT32, c.featureShape())
                .classLabel(c.classes()).build();
        DecodedSamples in = input(env, c, spec);

        Map<String, String> provenance = new LinkedHashMap<>();
        c.options().forEach((k, v) -> provenance.put("job." + k, v));
        provenance.put("job.name", name(c));
        DistributedTraining.Builder training = DistributedTraining.of(recipe(c))
                .globalBatchSize(c.globalBatchSize()).epochs(c.epochs()).maxStaleness(c.maxStaleness())
                .maxBatchDelay(c.maxBatchDelay()).threadsPerWorker(c.threads()).seed(c.seed())
                .snapshotEverySteps(c.snapshotEverySteps()).snapshotEvery(c.snapshotEvery())
                .provenance(provenance);
        if (c.parallelism() > 0) {
            training.parallelism(c.parallelism());
        }
        DataStream<ModelSnapshot> models = training.build().train(in.samples());

        if (c.modelDir() != null) {
            models.sinkTo(ModelFileSink.to(c.modelDir())).setParallelism(1)
                    .name("model files " + c.modelDir()).uid("model-files");
        }
        if (c.modelsTopic() != null) {
            models.sinkTo(KafkaSinks.modelSnapshots(c.bootstrapServers(), c.modelsTopic()).build()).setParallelism(1)
                    .name("kafka " + c.modelsTopic()).uid("models-sink");
        }
        if (c.deadLettersTopic() != null) {
            in.deadLetters().sinkTo(KafkaSinks.deadLetters(c.bootstrapServers(), c.deadLettersTopic()).build())
                    .name("kafka " + c.deadLettersTopic()).uid("dead-letters-sink");
        } else {
            in.deadLetters().map(TrainingJob::logDeadLetter).name("log dead letters")
                    .sinkTo(new DiscardingSink<>()).name("dead letters logged");
        }
    }

    private static DeadLetter logDeadLetter(DeadLetter d) {
        LOG.warn("dead letter from {}: {}", d.origin(), d.reason());
        return d;
    }

    private static DecodedSamples input(StreamExecutionEnvironment env, TrainingConfig c, SampleSpec spec)
            throws IOException {
        if (c.idxImages() != null) {
            return FileSamples.idx(env, c.idxImages(), c.idxLabels(), spec);
        }
        if (c.csvFile() != null) {
            return FileSamples.csv(env, c.csvFile(), c.csvSkipHeader(), CsvSampleFormat.labelLast(), spec);
        }
        KafkaSamples source = KafkaSamples.builder(c.bootstrapServers(), c.groupId(), c.inputTopic())
                .spec(spec).name("kafka " + c.inputTopic());
        if (c.stopAtLatest()) {
            source.startingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
                    .boundedAt(OffsetsInitializer.latest());
        }
        return source.build(env);
    }

    /** The model, loss and optimizer the options name; a model file travels inside the recipe as bytes. */
    static TrainingRecipe recipe(TrainingConfig c) throws IOException {
        TrainingRecipe.ModelFactory model;
        if (c.architecture() != null) {
            long seed = c.seed();
            model = c.architecture().equals("lenet5") ? kernels -> Models.lenet5(seed, kernels)
                    : kernels -> Models.mlp(seed, kernels);
        } else {
            byte[] bytes = readFile(c.modelPath());
            String file = c.modelPath();
            boolean onnx = file.toLowerCase(Locale.ROOT).endsWith(".onnx");
            model = kernels -> load(bytes, file, onnx, kernels);
        }
        TrainingRecipe.LossFactory loss = c.loss().equals("nll") ? NllLoss::new : SoftmaxCrossEntropy::new;
        double rate = c.learningRate();
        double momentum = c.momentum();
        TrainingRecipe.OptimizerFactory optimizer = c.optimizer().equals("adam") ? state -> new Adam(state, rate)
                : state -> new Sgd(state, rate, momentum);
        return TrainingRecipe.of(c.modelName(), model, loss, optimizer);
    }

    private static byte[] readFile(String path) throws IOException {
        org.apache.flink.core.fs.Path p = new org.apache.flink.core.fs.Path(path);
        FileSystem fs = p.getFileSystem();
        if (!fs.exists(p)) {
            throw new IllegalArgumentException("option --model: no file " + path);
        }
        try (FSDataInputStream in = fs.open(p)) {
            return in.readAllBytes();
        }
    }

    /** A model from a StreamDL model file's or an ONNX file's bytes; a bad file is refused with its name. */
    private static Model load(byte[] bytes, String file, boolean onnx, Kernels kernels) {
        try {
            if (!onnx) {
                return ModelBytes.read(bytes, file, kernels).model();
            }
            Path tmp = Files.createTempFile("streamdl-model", ".onnx");
            try {
                Files.write(tmp, bytes);
                return OnnxImporter.importModel(tmp, kernels);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException | OnnxFormatException e) {
            throw new UncheckedIOException("model " + file + ": " + e.getMessage(),
                    e instanceof IOException io ? io : new IOException(e));
        }
    }
}
