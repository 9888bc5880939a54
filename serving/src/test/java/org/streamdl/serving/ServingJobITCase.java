package org.streamdl.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
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
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.model.Models;
import org.streamdl.flink.connector.formats.AvroRecords;
import org.streamdl.flink.connector.formats.AvroSampleFormat;
import org.streamdl.flink.connector.kafka.embedded.EmbeddedKafkaBroker;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.ops.Convert;
import org.junit.jupiter.api.Timeout;

/** The serving job against an in-process Kafka broker on a MiniCluster with two slots. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)   // a stalled job fails here instead of hanging the build
class ServingJobITCase {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    private static EmbeddedKafkaBroker broker;

    @TempDir
    Path dir;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = EmbeddedKafkaBroker.start();
    }

    @AfterAll
    static void stopBroker() {
        broker.close();
    }

    private static Sample image(int i) {
        Rng rng = new Rng(500 + i);
        float[] pixels = new float[784];
        for (int p = 0; p < pixels.length; p++) {
            pixels[p] = rng.nextFloat();
        }
        return Sample.builder().key("img-" + i).feature(Sample.DEFAULT_FEATURE, TensorValue.ofFloats(pixels, 1, 28, 28)).build();
    }

    @Test
    void everySampleIsAnsweredExactlyOnceAndEveryBadRecordBecomesADeadLetter() throws Exception {
        int n = 300;
        Path modelFile = dir.resolve("lenet5.sdlm");
        try (Model lenet = Models.lenet5(9, Kernels.create(1))) {
            ModelFile.write(modelFile, lenet, Map.of("training.version", "42"));
        }
        broker.createTopic("to-score", 2);
        broker.createTopic("scored", 2);
        broker.createTopic("unscorable", 1);
        produce("to-score", n);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            producer.send(new ProducerRecord<>("to-score", null, "not avro".getBytes()));
            producer.send(new ProducerRecord<>("to-score", null, AvroSampleFormat.encode(Sample.builder().key("flat")
                    .feature(Sample.DEFAULT_FEATURE, TensorValue.ofFloats(new float[784], 784)).build())));
            producer.flush();
        }

        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        ServingJob.define(env, ServingConfig.parse("--bootstrap-servers", broker.bootstrapServers(),
                "--input-topic", "to-score", "--predictions-topic", "scored", "--dead-letters-topic", "unscorable",
                "--model", modelFile.toString(), "--feature-shape", "1,28,28", "--max-batch-size", "32",
                "--checkpoint-interval-ms", "200", "--stop-at-latest"));
        env.execute("serving");

        Map<String, Prediction> byKey = new HashMap<>();
        for (byte[] value : broker.readCommitted("scored", Duration.ofSeconds(30))) {
            Prediction pr = AvroRecords.decodePrediction(value);
            assertEquals(null, byKey.put(pr.key(), pr), "answered twice: " + pr.key());
        }
        assertEquals(n, byKey.size());
        try (Model model = ModelFile.read(modelFile, Kernels.create(1)).model(); Allocator a = Allocator.root("x", 1 << 20)) {
            for (int i = 0; i < n; i += 29) {
                float[] logits = Convert.toFloatArray(model.predict(image(i).singleFeature().reshape(1, 1, 28, 28).toTensor(a), a));
                int best = 0;
                for (int j = 1; j < logits.length; j++) {
                    best = logits[j] > logits[best] ? j : best;
                }
                Prediction pr = byKey.get("img-" + i);
                assertEquals(best, pr.predictedClass(), "img-" + i);
                assertEquals(42, pr.modelVersion());
            }
        }
        List<byte[]> dead = broker.readCommitted("unscorable", Duration.ofSeconds(30));
        assertEquals(2, dead.size());
        String reasons = "";
        for (byte[] value : dead) {
            DeadLetter d = AvroRecords.decodeDeadLetter(value);
            reasons += d.reason() + "\n";
        }
        assertTrue(reasons.contains("avro header") && reasons.contains("[784]"), reasons);
    }

    /**
     * The TaskManager running the job is killed once a checkpoint has completed; a new one takes
     * its place and the job resumes from the checkpoint. Every sample is still answered exactly once
     * for a read_committed reader: none lost, none twice.
     */
    @Test
    void aKilledTaskManagerLosesNoPredictionAndRepeatsNone(
            @org.apache.flink.test.junit5.InjectMiniCluster org.apache.flink.runtime.minicluster.MiniCluster cluster)
            throws Exception {
        int n = 12_000;
        Path modelFile = dir.resolve("lenet5-kill.sdlm");
        try (Model lenet = Models.lenet5(9, Kernels.create(1))) {
            ModelFile.write(modelFile, lenet, Map.of());
        }
        broker.createTopic("kill-in", 2);
        broker.createTopic("kill-out", 2);
        broker.createTopic("kill-dead", 1);
        produce("kill-in", n);
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(org.apache.flink.configuration.RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(org.apache.flink.configuration.RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
        conf.set(org.apache.flink.configuration.RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        ServingJob.define(env, ServingConfig.parse("--bootstrap-servers", broker.bootstrapServers(),
                "--input-topic", "kill-in", "--predictions-topic", "kill-out", "--dead-letters-topic", "kill-dead",
                "--model", modelFile.toString(), "--feature-shape", "1,28,28", "--max-batch-size", "1",
                "--max-batch-delay-ms", "0", "--checkpoint-interval-ms", "100", "--stop-at-latest"));
        org.apache.flink.core.execution.JobClient job = env.executeAsync("serving, killed once");
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (completedCheckpoints(cluster, job.getJobID()) == 0) {
            assertTrue(System.nanoTime() < deadline, "no checkpoint completed within a minute");
            Thread.sleep(20);
        }
        cluster.terminateTaskManager(0).get();
        cluster.startTaskManager();
        job.getJobExecutionResult().get();
        org.apache.flink.runtime.executiongraph.AccessExecutionGraph graph = cluster.getExecutionGraph(job.getJobID()).get();
        assertTrue(graph.getStatusTimestamp(org.apache.flink.api.common.JobStatus.RESTARTING) > 0,
                "the job restarted after the TaskManager was killed");

        java.util.Set<String> keys = new java.util.HashSet<>();
        for (byte[] value : broker.readCommitted("kill-out", Duration.ofSeconds(30))) {
            String key = AvroRecords.decodePrediction(value).key();
            assertTrue(keys.add(key), "answered twice: " + key);
        }
        assertEquals(n, keys.size(), "every sample answered once");
    }

    private static long completedCheckpoints(org.apache.flink.runtime.minicluster.MiniCluster cluster,
                                             org.apache.flink.api.common.JobID job) throws Exception {
        var stats = cluster.getExecutionGraph(job).get().getCheckpointStatsSnapshot();
        return stats == null ? 0 : stats.getCounts().getNumberOfCompletedCheckpoints();
    }

    private static void produce(String topic, int n) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (int i = 0; i < n; i++) {
                producer.send(new ProducerRecord<>(topic, null, AvroSampleFormat.encode(image(i))));
            }
            producer.flush();
        }
    }

    @Test
    void aBadModelFileStopsTheJobBeforeItIsSubmitted() throws Exception {
        Path garbage = java.nio.file.Files.write(dir.resolve("garbage.sdlm"), new byte[64]);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ServingJob.define(env,
                ServingConfig.parse("--bootstrap-servers", broker.bootstrapServers(), "--input-topic", "x",
                        "--predictions-topic", "y", "--dead-letters-topic", "z", "--model", garbage.toString(),
                        "--feature-shape", "1,28,28")));
        assertTrue(e.getMessage().contains("garbage.sdlm"), e.getMessage());
    }
}
