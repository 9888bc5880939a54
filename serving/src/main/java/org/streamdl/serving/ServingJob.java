package org.streamdl.serving;

import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.streamdl.flink.connector.decode.DecodedSamples;
import org.streamdl.flink.connector.formats.SampleSpec;
import org.streamdl.flink.connector.kafka.KafkaSamples;
import org.streamdl.flink.connector.kafka.KafkaSinks;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.inference.Predictor;
import org.streamdl.tensor.DType;

/**
 * The serving job: Avro samples from a Kafka topic, scored in micro-batches by a StreamDL model,
 * predictions to a Kafka topic with exactly-once transactions, and every record that cannot be
 * scored (undecodable, wrongly shaped, not taken by the model) to a dead-letter topic with its
 * reason. {@link #main} takes the options ({@code --help} lists them, {@link ServingConfig}) and
 * runs on the environment it finds; {@link #define} adds the pipeline to a program's environment.
 */
public final class ServingJob {
    private ServingJob() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.println(ServingConfig.USAGE);
            return;
        }
        ServingConfig config;
        try {
            config = ServingConfig.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println(ServingConfig.USAGE);
            System.exit(2);
            return;
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        define(env, config);
        env.execute(name(config));
    }

    static String name(ServingConfig c) {
        return "StreamDL serving: " + c.inputTopic() + " -> " + c.predictionsTopic();
    }

    /**
     * Adds the serving pipeline to {@code env} and turns on exactly-once checkpoints. The model file
     * is read and checked here, so a bad one stops the job before it is submitted.
     */
    public static void define(StreamExecutionEnvironment env, ServingConfig c) {
        env.enableCheckpointing(c.checkpointInterval().toMillis(), CheckpointingMode.EXACTLY_ONCE);
        SampleSpec.Builder spec = SampleSpec.builder().feature(Sample.DEFAULT_FEATURE, DType.FLOAT32, c.featureShape());
        if (c.classes() > 0) {
            spec.optionalClassLabel(c.classes());
        }
        KafkaSamples source = KafkaSamples.builder(c.bootstrapServers(), c.groupId(), c.inputTopic())
                .spec(spec.build()).name("kafka " + c.inputTopic());
        if (c.stopAtLatest()) {
            source.startingOffsets(OffsetsInitializer.committedOffsets(
                    org.apache.kafka.clients.consumer.OffsetResetStrategy.EARLIEST)).boundedAt(OffsetsInitializer.latest());
        }
        DecodedSamples in = source.build(env);
        Predictor.Result scored = Predictor.fromFile(c.modelPath(), c.featureShape())
                .maxBatchSize(c.maxBatchSize()).maxBatchDelay(c.maxBatchDelay()).threads(c.threads())
                .build().predict(in.samples());
        if (c.parallelism() > 0) {
            scored.predictions().setParallelism(c.parallelism());
        }
        scored.predictions()
                .sinkTo(KafkaSinks.predictions(c.bootstrapServers(), c.predictionsTopic()).build())
                .name("kafka " + c.predictionsTopic()).uid("predictions-sink");
        in.deadLetters().union(scored.deadLetters())
                .sinkTo(KafkaSinks.deadLetters(c.bootstrapServers(), c.deadLettersTopic()).build())
                .name("kafka " + c.deadLettersTopic()).uid("dead-letters-sink");
    }
}
