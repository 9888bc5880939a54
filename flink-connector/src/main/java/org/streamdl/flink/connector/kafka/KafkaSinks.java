package org.streamdl.flink.connector.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Objects;
import java.util.Properties;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.KafkaSinkBuilder;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.streamdl.flink.connector.formats.AvroRecords;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.connector.records.Prediction;

/**
 * Kafka sinks for predictions, dead letters and model snapshots, Avro single-object encoded, keyed
 * by the record's key (predictions), origin (dead letters) or model name (snapshots). Exactly-once
 * by default: records are written in Kafka transactions committed when a Flink checkpoint
 * completes, so consumers reading with
 * {@code isolation.level=read_committed} see each record once even across failures and restarts.
 * Without checkpointing nothing would ever commit, so exactly-once requires it; at-least-once is
 * one call away for jobs that prefer lower latency to duplicates.
 */
public final class KafkaSinks<T> {
    /** The largest model snapshot record the producer sends. */
    public static final int MAX_MODEL_BYTES = 256 << 20;

    private final String bootstrapServers;
    private final String topic;
    private final KafkaRecordSerializationSchema<T> serializer;
    private DeliveryGuarantee guarantee = DeliveryGuarantee.EXACTLY_ONCE;
    private String transactionalIdPrefix;
    private Duration transactionTimeout = Duration.ofMinutes(15);
    private final Properties properties = new Properties();

    private KafkaSinks(String bootstrapServers, String topic, KafkaRecordSerializationSchema<T> serializer) {
        this.bootstrapServers = Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        this.topic = Objects.requireNonNull(topic, "topic");
        this.serializer = serializer;
        this.transactionalIdPrefix = "streamdl-" + topic;
    }

    public static KafkaSinks<Prediction> predictions(String bootstrapServers, String topic) {
        return new KafkaSinks<>(bootstrapServers, topic, new TopicSerializer<>(topic,
                p -> p.key() == null ? null : p.key().getBytes(StandardCharsets.UTF_8), AvroRecords::encode));
    }

    public static KafkaSinks<DeadLetter> deadLetters(String bootstrapServers, String topic) {
        return new KafkaSinks<>(bootstrapServers, topic, new TopicSerializer<>(topic,
                d -> d.origin().toString().getBytes(StandardCharsets.UTF_8), AvroRecords::encode));
    }

    /**
     * Model versions keyed by model name. A model file is larger than Kafka's default 1 MB record
     * limit from about 250,000 parameters on: the producer here allows 256 MiB, and the topic (or
     * broker) needs {@code max.message.bytes} (or {@code message.max.bytes}) to match.
     */
    public static KafkaSinks<ModelSnapshot> modelSnapshots(String bootstrapServers, String topic) {
        KafkaSinks<ModelSnapshot> sinks = new KafkaSinks<>(bootstrapServers, topic, new TopicSerializer<>(topic,
                m -> m.modelName().getBytes(StandardCharsets.UTF_8), AvroRecords::encode));
        return sinks.property(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(MAX_MODEL_BYTES));
    }

    public KafkaSinks<T> atLeastOnce() {
        this.guarantee = DeliveryGuarantee.AT_LEAST_ONCE;
        return this;
    }

    public KafkaSinks<T> deliveryGuarantee(DeliveryGuarantee guarantee) {
        this.guarantee = Objects.requireNonNull(guarantee, "guarantee");
        return this;
    }

    /**
     * Transactional ids start with this; it must be unique per sink among all jobs writing to the
     * cluster. By default {@code streamdl-<topic>}.
     */
    public KafkaSinks<T> transactionalIdPrefix(String prefix) {
        this.transactionalIdPrefix = Objects.requireNonNull(prefix, "prefix");
        return this;
    }

    /**
     * How long a transaction may stay open, at least the checkpoint interval plus the longest
     * restart; at most the broker's {@code transaction.max.timeout.ms} (15 min by default). 15 min.
     */
    public KafkaSinks<T> transactionTimeout(Duration timeout) {
        this.transactionTimeout = Objects.requireNonNull(timeout, "timeout");
        return this;
    }

    public KafkaSinks<T> property(String key, String value) {
        properties.setProperty(key, value);
        return this;
    }

    public DeliveryGuarantee deliveryGuarantee() {
        return guarantee;
    }

    public KafkaSink<T> build() {
        Properties producer = new Properties();
        producer.setProperty(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, Long.toString(transactionTimeout.toMillis()));
        producer.putAll(properties);
        KafkaSinkBuilder<T> b = KafkaSink.<T>builder()
                .setBootstrapServers(bootstrapServers)
                .setRecordSerializer(serializer)
                .setDeliveryGuarantee(guarantee)
                .setKafkaProducerConfig(producer);
        if (guarantee == DeliveryGuarantee.EXACTLY_ONCE) {
            b.setTransactionalIdPrefix(transactionalIdPrefix);
        }
        return b.build();
    }

    /** Serializable, so the sink's serializer can carry these functions into the job. */
    private interface Encoder<T> extends java.util.function.Function<T, byte[]>, java.io.Serializable {}

    /** Writes each record to one topic, with its key and value from the two encoders. */
    private record TopicSerializer<T>(String topic, Encoder<T> key, Encoder<T> value)
            implements KafkaRecordSerializationSchema<T> {
        @Override
        public ProducerRecord<byte[], byte[]> serialize(T record, KafkaSinkContext context, Long timestamp) {
            return new ProducerRecord<>(topic, null, timestamp, key.apply(record), value.apply(record));
        }
    }
}
