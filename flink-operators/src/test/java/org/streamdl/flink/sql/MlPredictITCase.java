package org.streamdl.flink.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.data.IdxFile;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.quantize.Quantizer;
import org.streamdl.flink.connector.kafka.embedded.EmbeddedKafkaBroker;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.flink.connector.serialization.StreamDLTypes;
import org.streamdl.flink.inference.Predictor;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/**
 * ML_PREDICT end to end: Fashion-MNIST test images in a Kafka topic (JSON), a Kafka table over it,
 * ML_PREDICT with the {@code streamdl} provider, predictions into Kafka tables, read back with a
 * plain consumer. Every image's prediction must equal the DataStream {@link Predictor}'s for the
 * same image and model file, in float32 and int8, with the sync and the async function.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)   // a stalled job fails here instead of hanging the build
class MlPredictITCase {
    private static final int IMAGES = 200;
    private static final int CALIBRATION_IMAGES = 512;
    private static final long VERSION = 7;

    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    static Path dir;

    private static EmbeddedKafkaBroker kafka;
    private static float[][] images;

    private static Path fp32;
    private static Path calibration;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = EmbeddedKafkaBroker.start();
        IdxFile idx = IdxFile.read(SqlModels.FASHION_MNIST.resolve("t10k-images-idx3-ubyte.gz"));
        images = new float[IMAGES][784];
        for (int i = 0; i < IMAGES; i++) {
            for (int p = 0; p < 784; p++) {
                images[i][p] = (idx.data()[i * 784 + p] & 0xff) / 255f;
            }
        }
        fp32 = SqlModels.lenet5(dir);
        calibration = SqlModels.FASHION_MNIST.resolve("train-images-idx3-ubyte.gz").toAbsolutePath();
        kafka.createTopic("images", 2);
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerProperties())) {
            for (int i = 0; i < IMAGES; i++) {
                producer.send(new ProducerRecord<>("images", json(i, images[i])));
            }
            // two rows the model cannot take
            producer.send(new ProducerRecord<>("images", json(1000, new float[10])));
            producer.send(new ProducerRecord<>("images", "{\"id\": 1001, \"pixels\": null}".getBytes(StandardCharsets.UTF_8)));
        }
    }

    @AfterAll
    static void stopKafka() {
        if (kafka != null) {
            kafka.close();
        }
    }

    /** A table environment on the MiniCluster with the Kafka table {@code images} over the images topic. */
    private static StreamTableEnvironment tableEnvironment(String group) {
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
        env.setParallelism(2);
        StreamTableEnvironment tEnv = StreamTableEnvironment.create(env);
        tEnv.executeSql("CREATE TABLE images (id BIGINT, pixels ARRAY<FLOAT>) WITH ('connector' = 'kafka', "
                + "'topic' = 'images', 'properties.bootstrap.servers' = '" + kafka.bootstrapServers() + "', "
                + "'properties.group.id' = '" + group + "', 'scan.startup.mode' = 'earliest-offset', "
                + "'scan.bounded.mode' = 'latest-offset', 'format' = 'json')");
        return tEnv;
    }

    @Test
    void theScalarFunctionAnswersAsThePredictor() throws Exception {
        StreamTableEnvironment tEnv = tableEnvironment("udf-it");
        tEnv.executeSql("CREATE FUNCTION streamdl_predict AS '" + StreamDLPredict.class.getName() + "'");
        Map<Long, Integer> got = new HashMap<>();
        try (CloseableIterator<org.apache.flink.types.Row> rows = tEnv.executeSql("SELECT id, streamdl_predict('"
                + fp32.toUri() + "', pixels, '1,28,28') FROM images WHERE id < 1000 OR pixels IS NULL").collect()) {
            rows.forEachRemaining(r -> assertNull(got.put((Long) r.getField(0), (Integer) r.getField(1)), "twice: " + r));
        }
        assertEquals(IMAGES + 1, got.size());
        assertNull(got.get(1001L), "NULL features give NULL");
        Map<Long, Prediction> expected = predictorAnswers(fp32);
        for (long id = 0; id < IMAGES; id++) {
            assertEquals(expected.get(id).predictedClass(), got.get(id), "image " + id);
        }
    }

    @Test
    void anInvalidRowFailsTheJobByDefaultNamingTheColumn() {
        StreamTableEnvironment tEnv = tableEnvironment("fail-it");
        tEnv.executeSql("CREATE MODEL strict INPUT (pixels ARRAY<FLOAT>) OUTPUT (label INT) WITH ('provider' = 'streamdl', "
                + "'path' = '" + fp32.toUri() + "', 'feature-shape' = '1,28,28')");
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(Exception.class, () -> {
            try (CloseableIterator<org.apache.flink.types.Row> rows = tEnv.executeSql(
                    "SELECT id, label FROM ML_PREDICT(TABLE images, MODEL strict, DESCRIPTOR(pixels))").collect()) {
                rows.forEachRemaining(r -> { });
            }
        });
        StringBuilder messages = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            messages.append(t.getMessage()).append('\n');
        }
        assertTrue(messages.toString().contains("column 'pixels' has 10 values, expected 784")
                && messages.toString().contains("'invalid-rows'"), messages.toString());
    }

    @Test
    void everyImageGetsThePredictorsAnswerInFloat32AndInt8SyncAndAsync() throws Exception {
        Path int8 = quantized(fp32, calibration);
        StreamTableEnvironment tEnv = tableEnvironment("ml-predict-it");
        String common = "'feature-shape' = '1,28,28', 'invalid-rows' = 'null', 'max-batch-size' = '32', "
                + "'max-batch-delay' = '5 ms'";
        tEnv.executeSql("CREATE MODEL lenet_fp32 INPUT (pixels ARRAY<FLOAT>) "
                + "OUTPUT (label INT, logits ARRAY<FLOAT>, score FLOAT, model_version BIGINT) "
                + "WITH ('provider' = 'streamdl', 'path' = '" + fp32.toUri() + "', " + common + ")");
        tEnv.executeSql("CREATE MODEL lenet_int8 INPUT (pixels ARRAY<FLOAT>) "
                + "OUTPUT (label INT, logits ARRAY<FLOAT>, score FLOAT, model_version BIGINT) "
                + "WITH ('provider' = 'streamdl', 'path' = '" + fp32.toUri() + "', 'precision' = 'int8', "
                + "'calibration-path' = '" + calibration.toUri() + "', 'calibration-samples' = '" + CALIBRATION_IMAGES
                + "', " + common + ")");
        StatementSet inserts = tEnv.createStatementSet();
        Map<String, String> cases = Map.of(
                "fp32_sync", "MODEL lenet_fp32, DESCRIPTOR(pixels), MAP['async', 'false']",
                "fp32_async", "MODEL lenet_fp32, DESCRIPTOR(pixels), MAP['async', 'true', 'max-concurrent-operations', '64']",
                "int8_sync", "MODEL lenet_int8, DESCRIPTOR(pixels), MAP['async', 'false']",
                "int8_async", "MODEL lenet_int8, DESCRIPTOR(pixels), MAP['async', 'true', 'max-concurrent-operations', '64']");
        for (var c : cases.entrySet()) {
            kafka.createTopic("predictions_" + c.getKey(), 1);
            tEnv.executeSql("CREATE TABLE predictions_" + c.getKey() + " (id BIGINT, label INT, logits ARRAY<FLOAT>, "
                    + "score FLOAT, model_version BIGINT) WITH ('connector' = 'kafka', 'topic' = 'predictions_" + c.getKey()
                    + "', 'properties.bootstrap.servers' = '" + kafka.bootstrapServers() + "', 'format' = 'json', "
                    + "'sink.delivery-guarantee' = 'at-least-once')");
            inserts.addInsertSql("INSERT INTO predictions_" + c.getKey() + " SELECT id, label, logits, score, model_version "
                    + "FROM ML_PREDICT(TABLE images, " + c.getValue() + ")");
        }
        inserts.execute().await(4, TimeUnit.MINUTES);

        Map<Long, Prediction> fp32Expected = predictorAnswers(fp32);
        Map<Long, Prediction> int8Expected = predictorAnswers(int8);
        double int8Error = 0;   // the int8 model answers differently: the int8 rows test int8, not float32 again
        for (long id = 0; id < IMAGES; id++) {
            float[] a = fp32Expected.get(id).outputs().get("output").toFloats();
            float[] b = int8Expected.get(id).outputs().get("output").toFloats();
            for (int j = 0; j < a.length; j++) {
                int8Error = Math.max(int8Error, Math.abs(a[j] - b[j]));
            }
        }
        assertTrue(int8Error > 1e-3, "int8 logits differ from float32 ones by at most " + int8Error);
        for (String c : cases.keySet()) {
            Map<Long, JsonNode> got = readBack("predictions_" + c);
            assertEquals(IMAGES + 2, got.size(), c + ": one prediction per row");
            assertTrue(got.get(1000L).get("label").isNull() && got.get(1001L).get("label").isNull(), c + ": invalid rows");
            Map<Long, Prediction> expected = c.startsWith("fp32") ? fp32Expected : int8Expected;
            for (long id = 0; id < IMAGES; id++) {
                JsonNode row = got.get(id);
                Prediction want = expected.get(id);
                float[] logits = want.outputs().get("output").toFloats();
                for (int j = 0; j < logits.length; j++) {
                    float have = row.get("logits").get(j).floatValue();
                    assertEquals(logits[j], have, 1e-4f * Math.max(1f, Math.abs(logits[j])),
                            c + ": image " + id + " logit " + j);
                }
                assertEquals(want.predictedClass(), row.get("label").intValue(), c + ": image " + id);
                assertEquals(VERSION, row.get("model_version").longValue(), c + ": image " + id);
                assertEquals(VERSION, want.modelVersion());
            }
        }
    }

    /** The int8 model the provider makes of {@code fp32}: the same calibration, written as a file. */
    private static Path quantized(Path fp32, Path calibration) throws Exception {
        Path file = dir.resolve("lenet5-int8.sdlm");
        IdxFile idx = IdxFile.read(calibration);
        try (Model model = ModelFile.read(fp32, Kernels.create(1)).model();
             Allocator a = Allocator.root("calibration", 1L << 28)) {
            List<Tensor> batches = new ArrayList<>();
            for (int start = 0; start < CALIBRATION_IMAGES; start += 256) {
                float[] values = new float[256 * 784];
                for (int i = 0; i < values.length; i++) {
                    values[i] = (idx.data()[start * 784 + i] & 0xff) / 255f;
                }
                batches.add(Convert.fromFloats(values, Shape.of(256, 1, 28, 28), a));
            }
            try (Quantizer.Quantized q = Quantizer.quantize(model, batches, Quantizer.Calibration.MAX_ABS, 100,
                    Kernels.create(1))) {
                ModelFile.write(file, q.model(), Map.of("training.version", Long.toString(VERSION)));
            }
        }
        return file;
    }

    /** What the DataStream Predictor answers for every image, by image id. */
    private static Map<Long, Prediction> predictorAnswers(Path modelFile) throws Exception {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        Sample[] samples = new Sample[IMAGES];
        for (int i = 0; i < IMAGES; i++) {
            samples[i] = Sample.builder().key(Integer.toString(i))
                    .feature("input", TensorValue.ofFloats(images[i], 1, 28, 28)).build();
        }
        DataStream.Collector<Prediction> out = new DataStream.Collector<>();
        Predictor.fromFile(modelFile.toString(), 1, 28, 28).maxBatchSize(32).maxBatchDelay(Duration.ofMillis(5)).build()
                .predict(env.fromData(StreamDLTypes.SAMPLE, samples)).predictions().collectAsync(out);
        env.execute("predictor");
        Map<Long, Prediction> byId = new HashMap<>();
        try (CloseableIterator<Prediction> it = out.getOutput()) {
            it.forEachRemaining(p -> byId.put(Long.parseLong(p.key()), p));
        }
        assertEquals(IMAGES, byId.size());
        return byId;
    }

    private static Map<Long, JsonNode> readBack(String topic) throws Exception {
        ObjectMapper json = new ObjectMapper();
        Map<Long, JsonNode> byId = new HashMap<>();
        for (byte[] value : kafka.readCommitted(topic, Duration.ofSeconds(30))) {
            JsonNode row = json.readTree(value);
            assertNull(byId.put(row.get("id").longValue(), row), topic + ": answered twice: " + row);
        }
        return byId;
    }

    private static byte[] json(long id, float[] pixels) {
        StringBuilder s = new StringBuilder("{\"id\": ").append(id).append(", \"pixels\": [");
        for (int p = 0; p < pixels.length; p++) {
            s.append(p == 0 ? "" : ",").append(pixels[p]);
        }
        return s.append("]}").toString().getBytes(StandardCharsets.UTF_8);
    }

    private static Properties producerProperties() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }
}
