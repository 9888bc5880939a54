package org.streamdl.flink.connector.kafka.embedded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EmbeddedKafkaBrokerTest {
    private static EmbeddedKafkaBroker broker;

    @BeforeAll
    static void start() throws Exception {
        broker = EmbeddedKafkaBroker.start();
    }

    @AfterAll
    static void stop() {
        broker.close();
    }

    private static KafkaProducer<String, String> producer(String transactionalId) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        if (transactionalId != null) {
            p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        }
        return new KafkaProducer<>(p);
    }

    private static List<String> readAll(String topic, String isolation) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<String> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            List<TopicPartition> parts = c.partitionsFor(topic).stream().map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            var end = c.endOffsets(parts);
            long deadline = System.currentTimeMillis() + 20_000;
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.currentTimeMillis() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    out.add(r.value());
                }
            }
        }
        return out;
    }

    @Test
    void producesAndConsumesAcrossPartitions() throws Exception {
        broker.createTopic("plain", 3);
        try (KafkaProducer<String, String> p = producer(null)) {
            for (int i = 0; i < 30; i++) {
                p.send(new ProducerRecord<>("plain", i % 3, null, "v" + i)).get();
            }
        }
        List<String> read = readAll("plain", "read_uncommitted");
        assertEquals(30, read.size());
        assertEquals(30, read.stream().distinct().count());
    }

    @Test
    void readCommittedSeesCommittedTransactionsOnly() throws Exception {
        broker.createTopic("tx", 2);
        try (KafkaProducer<String, String> p = producer("tx-test")) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>("tx", "committed-1"));
            p.send(new ProducerRecord<>("tx", "committed-2"));
            p.commitTransaction();
            p.beginTransaction();
            p.send(new ProducerRecord<>("tx", "aborted"));
            p.flush();
            p.abortTransaction();
        }
        List<String> committed = readAll("tx", "read_committed");
        assertEquals(List.of("committed-1", "committed-2"), committed.stream().sorted().toList());
        assertTrue(readAll("tx", "read_uncommitted").contains("aborted"));
    }

    @Test
    void aSecondBrokerRunsBesideTheFirstAndCleansUpOnClose() throws Exception {
        Path dir;
        String address;
        try (EmbeddedKafkaBroker second = EmbeddedKafkaBroker.start()) {
            assertNotEquals(broker.bootstrapServers(), second.bootstrapServers());
            second.createTopic("other", 1);
            dir = second.directory();
            address = second.bootstrapServers();
            assertTrue(Files.isDirectory(dir));
        }
        assertFalse(Files.exists(dir), dir + " is deleted");
        int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
        try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            assertEquals(port, s.getLocalPort()); // the port is free again
        }
    }
}
