package org.streamdl.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableResult;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.data.IdxFile;
import org.streamdl.dnn.data.InMemoryDataset;
import org.streamdl.dnn.losses.SoftmaxCrossEntropy;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.model.Models;
import org.streamdl.dnn.optim.Sgd;
import org.streamdl.dnn.train.Trainer;
import org.streamdl.flink.connector.kafka.embedded.EmbeddedKafkaBroker;

/**
 * Runs {@code fashion-mnist.sql} statement by statement, as the SQL client would: a LeNet-5
 * trained here for one epoch on 4,000 images, the test images in a Kafka topic, the script scoring
 * them in int8 into another topic. Every image gets one prediction, as accurate as the float model's.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)   // a stalled job fails here instead of hanging the build
class FashionMnistSqlITCase {
    private static final int IMAGES = 500;

    @TempDir
    Path dir;

    @Test
    void theScriptScoresEveryImageInInt8() throws Exception {
        Path data = Path.of(FashionMnistSqlITCase.class.getResource("/fashion-mnist-4k/README.md").toURI()).getParent();
        Path modelFile = dir.resolve("lenet5.sdlm");
        double floatAccuracy;
        try (Model model = Models.lenet5(42, Kernels.create(2))) {
            floatAccuracy = Trainer.builder(model, SoftmaxCrossEntropy::new, new Sgd(model.allocator(), 0.05, 0.9))
                    .batchSize(64).epochs(1).seed(42).build()
                    .fit(InMemoryDataset.fashionMnist(data, "train"), InMemoryDataset.fashionMnist(data, "t10k").head(IMAGES))
                    .last().validationAccuracy();
            ModelFile.write(modelFile, model, Map.of("training.version", "1"));
        }
        IdxFile images = IdxFile.read(data.resolve("t10k-images-idx3-ubyte.gz"));
        IdxFile labels = IdxFile.read(data.resolve("t10k-labels-idx1-ubyte.gz"));

        try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.start()) {
            kafka.createTopic("fashion-mnist-images", 2);
            kafka.createTopic("fashion-mnist-predictions", 1);
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
                for (int i = 0; i < IMAGES; i++) {
                    StringBuilder row = new StringBuilder("{\"id\": ").append(i).append(", \"pixels\": [");
                    for (int j = 0; j < 784; j++) {
                        row.append(j == 0 ? "" : ",").append((images.data()[i * 784 + j] & 0xff) / 255f);
                    }
                    producer.send(new ProducerRecord<>("fashion-mnist-images", row.append("]}").toString()
                            .getBytes(StandardCharsets.UTF_8)));
                }
            }

            String script;
            try (InputStream in = FashionMnistSqlITCase.class.getResourceAsStream("fashion-mnist.sql")) {
                script = new String(in.readAllBytes(), StandardCharsets.UTF_8)
                        .replace("${bootstrap.servers}", kafka.bootstrapServers())
                        .replace("${model.path}", modelFile.toUri().toString())
                        .replace("${calibration.path}", data.resolve("train-images-idx3-ubyte.gz").toUri().toString());
            }
            TableEnvironment tEnv = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
            List<String> statements = statements(script);
            assertEquals(4, statements.size(), "CREATE TABLE x2, CREATE MODEL, INSERT: " + statements);
            TableResult last = null;
            for (String statement : statements) {
                last = tEnv.executeSql(statement);
            }
            last.await(4, TimeUnit.MINUTES);

            ObjectMapper json = new ObjectMapper();
            Map<Long, JsonNode> byId = new HashMap<>();
            for (byte[] value : kafka.readCommitted("fashion-mnist-predictions", Duration.ofSeconds(30))) {
                JsonNode row = json.readTree(value);
                assertNull(byId.put(row.get("id").longValue(), row), "answered twice: " + row);
            }
            assertEquals(IMAGES, byId.size());
            int correct = 0;
            for (long id = 0; id < IMAGES; id++) {
                JsonNode row = byId.get(id);
                float confidence = row.get("confidence").floatValue();
                assertTrue(confidence >= 0.1f && confidence <= 1f, "image " + id + ": confidence " + confidence);
                assertEquals(1, row.get("model_version").longValue());
                correct += row.get("label").intValue() == (labels.data()[(int) id] & 0xff) ? 1 : 0;
            }
            // int8 keeps the float model's accuracy on the same images (measured: 0.432 float, 215/500 int8)
            assertEquals(floatAccuracy, correct / (double) IMAGES, 0.03, correct + "/" + IMAGES + " right in int8");
            assertTrue(correct > 0.3 * IMAGES, correct + "/" + IMAGES + " right: the model learned (chance is 0.1)");
        }
    }

    /** The script's statements, comments dropped, split at the semicolons that end a line. */
    private static List<String> statements(String script) {
        StringBuilder code = new StringBuilder();
        for (String line : script.split("\n")) {
            if (!line.strip().startsWith("--")) {
                code.append(line).append('\n');
            }
        }
        List<String> statements = new ArrayList<>();
        for (String s : code.toString().split(";\\s*\n")) {
            if (!s.isBlank()) {
                statements.add(s.strip());
            }
        }
        return statements;
    }
}
