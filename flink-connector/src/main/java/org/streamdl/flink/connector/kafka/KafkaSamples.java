package org.streamdl.flink.connector.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.streamdl.flink.connector.decode.DecodedSamples;
import org.streamdl.flink.connector.formats.AvroSampleFormat;
import org.streamdl.flink.connector.formats.SampleFormat;
import org.streamdl.flink.connector.formats.SampleSpec;
import org.streamdl.flink.connector.records.RawRecord;

/**
 * Samples from Kafka topics, decoded and validated, with the bad records on a dead-letter stream:
 * <pre>{@code
 * DecodedSamples in = KafkaSamples.builder("localhost:9092", "group", "samples")
 *         .format(new AvroSampleFormat()).spec(SampleSpec.fashionMnist())
 *         .build(env);
 * in.samples() ... ; in.deadLetters().sinkTo(KafkaSinks.deadLetters(...).build());
 * }</pre>
 * Reads with {@code isolation.level=read_committed} (only committed transactions, so an upstream
 * exactly-once producer's aborted writes are never trained on); offsets live in Flink's
 * checkpoints, so after a restore every record is read again from exactly where the checkpoint was.
 */
public final class KafkaSamples {
    private final String bootstrapServers;
    private final String groupId;
    private final List<String> topics;
    private SampleFormat format = new AvroSampleFormat();
    private SampleSpec spec;
    private OffsetsInitializer startingOffsets = OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST);
    private OffsetsInitializer stoppingOffsets;
    private Duration idleTimeout = Duration.ofSeconds(5);
    private final Properties properties = new Properties();
    private String name;

    private KafkaSamples(String bootstrapServers, String groupId, List<String> topics) {
        this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        this.groupId = Objects.requireNonNull(groupId, "groupId");
        if (topics.isEmpty()) {
            throw new IllegalArgumentException("KafkaSamples needs at least one topic");
        }
        this.topics = List.copyOf(topics);
    }

    public static KafkaSamples builder(String bootstrapServers, String groupId, String... topics) {
        return new KafkaSamples(bootstrapServers, groupId, List.of(topics));
    }

    /** The wire format; Avro single-object encoding by default. */
    public KafkaSamples format(SampleFormat format) {
        this.format = Objects.requireNonNull(format, "format");
        return this;
    }

    public KafkaSamples spec(SampleSpec spec) {
        this.spec = Objects.requireNonNull(spec, "spec");
        return this;
    }

    /** Where a job without checkpointed offsets starts; by default the group's committed offsets, else the earliest. */
    public KafkaSamples startingOffsets(OffsetsInitializer startingOffsets) {
        this.startingOffsets = Objects.requireNonNull(startingOffsets, "startingOffsets");
        return this;
    }

    /** Makes the source bounded: it finishes at these offsets (for example {@code OffsetsInitializer.latest()}). */
    public KafkaSamples boundedAt(OffsetsInitializer stoppingOffsets) {
        this.stoppingOffsets = stoppingOffsets;
        return this;
    }

    /**
     * After this long without records a partition is marked idle, so it does not hold back event
     * time for the others; 5 s by default.
     */
    public KafkaSamples idleTimeout(Duration idleTimeout) {
        this.idleTimeout = idleTimeout;
        return this;
    }

    /** A Kafka consumer property, such as security settings. */
    public KafkaSamples property(String key, String value) {
        properties.setProperty(key, value);
        return this;
    }

    public KafkaSamples name(String name) {
        this.name = name;
        return this;
    }

    /** The Kafka source of raw records alone, for jobs that decode themselves. */
    public KafkaSource<RawRecord> buildSource() {
        KafkaSourceBuilder<RawRecord> b = KafkaSource.<RawRecord>builder()
                .setBootstrapServers(bootstrapServers)
                .setGroupId(groupId)
                .setTopics(topics)
                .setStartingOffsets(startingOffsets)
                .setDeserializer(new RawRecordDeserializer())
                .setProperty(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")
                .setProperties(properties);
        if (stoppingOffsets != null) {
            b.setBounded(stoppingOffsets);
        }
        return b.build();
    }

    /** Adds the source and the decoder to {@code env}: good samples and dead letters. */
    public DecodedSamples build(StreamExecutionEnvironment env) {
        if (spec == null) {
            throw new IllegalStateException("KafkaSamples needs a spec(...) saying what a valid sample is");
        }
        String sourceName = name != null ? name : "kafka " + String.join(",", topics);
        DataStream<RawRecord> raw = env.fromSource(buildSource(),
                WatermarkStrategy.<RawRecord>forBoundedOutOfOrderness(Duration.ofSeconds(1))
                        .withTimestampAssigner((r, ts) -> r.timestamp())
                        .withIdleness(idleTimeout),
                sourceName);
        return DecodedSamples.decode(raw, format, spec);
    }
}
