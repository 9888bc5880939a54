package org.streamdl.flink.connector.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.streamdl.flink.connector.TestRecords;
import org.streamdl.flink.connector.decode.DecodedSamples;
import org.streamdl.flink.connector.formats.AvroRecords;
import org.streamdl.flink.connector.formats.AvroSampleFormat;
import org.streamdl.flink.connector.formats.SampleSpec;
import org.streamdl.flink.connector.kafka.embedded.EmbeddedKafkaBroker;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.junit.jupiter.api.Timeout;

/**
 * Kafka in, Kafka out, on a MiniCluster with the in-process broker: every record produced comes
 * out as a sample or a dead letter with the right reason, and predictions written exactly-once
 * survive an injected failure without loss or duplicates for a read_committed reader.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)   // a stalled job fails here instead of hanging the build
class KafkaSamplesITCase {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static EmbeddedKafkaBroker broker;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = EmbeddedKafkaBroker.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    private enum Kind {
        GOOD(null),
        BAD_BYTES("avro header: expected Avro single-object encoding"),
        WRONG_SHAPE("avro features.input: expected shape [1, 28, 28], found [784]"),
        NAN("avro features.input: expected finite values, found NaN at element 5"),
        WRONG_SCHEMA("avro header: expected the fingerprint of a known Sample schema"),
        EMPTY("avro record: expected a sample, found an empty record");

        final String reason;

        Kind(String reason) {
            this.reason = reason;
        }
    }

    private static Kind kindOf(int i) {
        return i % 10 == 3 ? Kind.values()[1 + (i / 10) % 5] : Kind.GOOD;
    }

    private static byte[] record(int i) {
        Sample good = Sample.builder().key("k" + i).feature("input", TensorValue.ofFloats(TestRecords.ramp(784, 0.001f), 1, 28, 28))
                .labelClass(i % 10).build();
        return switch (kindOf(i)) {
            case GOOD -> AvroSampleFormat.encode(good);
            case BAD_BYTES -> ("garbage " + i).getBytes();
            case WRONG_SHAPE -> AvroSampleFormat.encode(Sample.classified(TensorValue.ofFloats(new float[784], 784), 1));
            case NAN -> {
                float[] px = new float[784];
                px[5] = Float.NaN;
                yield AvroSampleFormat.encode(Sample.classified(TensorValue.ofFloats(px, 1, 28, 28), 1));
            }
            case WRONG_SCHEMA -> {
                byte[] b = AvroSampleFormat.encode(good);
                b[5] ^= 0x55; // another writer schema's fingerprint
                yield b;
            }
            case EMPTY -> i % 20 == 3 ? new byte[0] : null; // an empty value and a tombstone
        };
    }

    /** Produces n records and returns, per partition and offset, which record went there. */
    private static Map<String, Integer> produce(String topic, int n) throws Exception {
        broker.createTopic(topic, 3);
        Map<String, Integer> where = new HashMap<>();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < n; i++) {
                var meta = producer.send(new ProducerRecord<>(topic, i % 3, ("k" + i).getBytes(), record(i))).get();
                where.put(meta.partition() + "@" + meta.offset(), i);
            }
        }
        return where;
    }

    private static StreamExecutionEnvironment env() {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        return env;
    }

    @Test
    void everyRecordIsASampleOrADeadLetterWithItsReason() throws Exception {
        int n = 1000;
        Map<String, Integer> where = produce("mixed", n);
        StreamExecutionEnvironment env = env();
        DecodedSamples in = KafkaSamples.builder(broker.bootstrapServers(), "it-mixed", "mixed")
                .spec(SampleSpec.fashionMnist())
                .startingOffsets(OffsetsInitializer.earliest())
                .boundedAt(OffsetsInitializer.latest())
                .build(env);
        DataStream.Collector<Sample> samples = new DataStream.Collector<>();
        DataStream.Collector<DeadLetter> dead = new DataStream.Collector<>();
        in.samples().collectAsync(samples);
        in.deadLetters().collectAsync(dead);
        env.execute("kafka mixed");

        List<Sample> good = new ArrayList<>();
        samples.getOutput().forEachRemaining(good::add);
        List<DeadLetter> letters = new ArrayList<>();
        dead.getOutput().forEachRemaining(letters::add);

        assertEquals(n, good.size() + letters.size());
        assertEquals(900, good.size());
        Set<String> keys = new HashSet<>();
        good.forEach(s -> keys.add(s.key()));
        assertEquals(900, keys.size());
        Map<Kind, Integer> perKind = new HashMap<>();
        for (DeadLetter d : letters) {
            Integer i = where.get(d.origin().partition() + "@" + d.origin().position());
            Kind kind = kindOf(i);
            perKind.merge(kind, 1, Integer::sum);
            assertTrue(d.reason().startsWith(kind.reason), "record " + i + " (" + kind + "): " + d.reason());
            byte[] sent = record(i);
            assertEquals(sent == null ? 0 : sent.length, d.payload().length);
            assertEquals("mixed", d.origin().name());
        }
        assertEquals(Map.of(Kind.BAD_BYTES, 20, Kind.WRONG_SHAPE, 20, Kind.NAN, 20, Kind.WRONG_SCHEMA, 20, Kind.EMPTY, 20), perKind);
    }

    static final AtomicBoolean FAILED = new AtomicBoolean();
    static final AtomicInteger SCORED = new AtomicInteger();

    /** Scores by echoing the label; throws once, after a checkpoint completed, to force a restore. */
    static final class FailOnceScorer extends RichMapFunction<Sample, Prediction> implements CheckpointListener {
        private volatile boolean checkpointed;
        private int seen;

        @Override
        public Prediction map(Sample s) throws Exception {
            Thread.sleep(2);
            SCORED.incrementAndGet();
            if (++seen > 150 && checkpointed && FAILED.compareAndSet(false, true)) {
                throw new RuntimeException("injected failure");
            }
            long now = System.currentTimeMillis();
            return new Prediction(s.key(), Map.of(), s.labelClass(), 1f, 1, s.eventTime(), now, now);
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            checkpointed = true;
        }
    }

    @Test
    void predictionsAreWrittenExactlyOnceAcrossAFailure() throws Exception {
        int n = 600;
        produce("to-score", n);
        broker.createTopic("predictions", 2);
        int goodCount = (int) java.util.stream.IntStream.range(0, n).filter(i -> kindOf(i) == Kind.GOOD).count();
        StreamExecutionEnvironment env = env();
        env.enableCheckpointing(300);
        DecodedSamples in = KafkaSamples.builder(broker.bootstrapServers(), "it-score", "to-score")
                .spec(SampleSpec.fashionMnist())
                .startingOffsets(OffsetsInitializer.earliest())
                .boundedAt(OffsetsInitializer.latest())
                .build(env);
        in.samples().map(new FailOnceScorer()).name("score")
                .sinkTo(KafkaSinks.predictions(broker.bootstrapServers(), "predictions").build());
        env.execute("kafka exactly-once");

        assertTrue(FAILED.get(), "the failure was injected");
        assertTrue(SCORED.get() > goodCount, "records after the checkpoint were scored twice: " + SCORED.get());
        List<Prediction> read = readCommitted("predictions");
        Set<String> keys = new HashSet<>();
        for (Prediction p : read) {
            assertTrue(keys.add(p.key()), "duplicate prediction for " + p.key());
            assertEquals(Integer.parseInt(p.key().substring(1)) % 10, p.predictedClass());
        }
        assertEquals(goodCount, read.size());
    }

    private static List<Prediction> readCommitted(String topic) throws Exception {
        List<Prediction> out = new ArrayList<>();
        for (byte[] value : broker.readCommitted(topic, Duration.ofSeconds(30))) {
            out.add(AvroRecords.decodePrediction(value));
        }
        return out;
    }
}
