package org.streamdl.flink.connector.kafka.embedded;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.streamdl.flink.connector.kafka.KafkaSinks;

/**
 * A single-node Kafka (KRaft, broker and controller in one) inside this JVM, bound to 127.0.0.1 on
 * free ports, with its storage in a fresh temporary directory formatted by Kafka's own
 * {@link Formatter}. For tests, examples and the local demo: one call starts it, {@link #close()}
 * stops it and deletes its files. Settings suit one node with transactions: replication factor 1
 * for the internal topics, no automatic topic creation, and a one-hour transaction ceiling so
 * Flink's exactly-once Kafka sink works with its defaults.
 *
 * <p>Needs {@code org.apache.kafka:kafka_2.13} on the classpath; StreamDL declares it provided and
 * optional, so it never ends up inside a job JAR.
 */
public final class EmbeddedKafkaBroker implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafkaBroker.class);
    private static final int NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";

    private final Path directory;
    private final boolean ownsDirectory;
    private final int port;
    private final KafkaRaftServer server;
    private boolean closed;

    private EmbeddedKafkaBroker(Path directory, boolean ownsDirectory, int port, KafkaRaftServer server) {
        this.directory = directory;
        this.ownsDirectory = ownsDirectory;
        this.port = port;
        this.server = server;
    }

    /** Starts a broker with the default settings. */
    public static EmbeddedKafkaBroker start() throws IOException {
        return start(new Properties());
    }

    /** Starts a broker; {@code overrides} are Kafka broker settings applied over the defaults. */
    public static EmbeddedKafkaBroker start(Properties overrides) throws IOException {
        IOException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                return startOnce(overrides, null, 0);
            } catch (PortTakenException e) {
                last = e; // another process took the port between choosing and binding it
            }
        }
        throw last;
    }

    /**
     * Starts a broker on {@code port} (0: a free one) that keeps its data in {@code directory}:
     * formatted on first use, reused by a later start, and left in place by {@link #close()}.
     */
    public static EmbeddedKafkaBroker start(Path directory, int port, Properties overrides) throws IOException {
        Files.createDirectories(directory);
        return startOnce(overrides, directory, port);
    }

    /**
     * Runs a broker as a process of its own, so that it outlives any other JVM a test or a user
     * kills: {@code --port N} (default 0, a free port), {@code --data-dir DIR} (required; kept,
     * reused on the next start), {@code --topic NAME:PARTITIONS} (repeatable; created unless it
     * exists). Prints {@code Kafka broker ready at 127.0.0.1:PORT} once it takes requests, and
     * stops cleanly on SIGTERM.
     */
    public static void main(String[] args) throws Exception {
        int port = 0;
        Path dataDir = null;
        List<String> topics = new ArrayList<>();
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 == args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            switch (args[i]) {
                case "--port" -> port = Integer.parseInt(args[i + 1]);
                case "--data-dir" -> dataDir = Path.of(args[i + 1]);
                case "--topic" -> topics.add(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + "; the options are --port N, --data-dir DIR, --topic NAME:PARTITIONS");
            }
        }
        if (dataDir == null) {
            throw new IllegalArgumentException("missing required option --data-dir");
        }
        EmbeddedKafkaBroker broker = start(dataDir, port, new Properties());
        Runtime.getRuntime().addShutdownHook(new Thread(broker::close, "kafka-broker-shutdown"));
        try (Admin admin = broker.admin()) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            for (String topic : topics) {
                int colon = topic.lastIndexOf(':');
                if (colon < 1) {
                    throw new IllegalArgumentException("option --topic must be NAME:PARTITIONS but was '" + topic + "'");
                }
                String name = topic.substring(0, colon);
                if (!existing.contains(name)) {
                    broker.createTopic(name, Integer.parseInt(topic.substring(colon + 1)));
                }
            }
        }
        System.out.println("Kafka broker ready at " + broker.bootstrapServers());
        System.out.flush();
        broker.server.awaitShutdown();
    }

    private static EmbeddedKafkaBroker startOnce(Properties overrides, Path givenDirectory, int givenPort)
            throws IOException {
        long began = System.nanoTime();
        boolean ownsDirectory = givenDirectory == null;
        Path directory = ownsDirectory ? Files.createTempDirectory("streamdl-kafka-") : givenDirectory;
        String logDir = directory.resolve("data").toString();
        boolean formatted = Files.exists(directory.resolve("data").resolve("meta.properties"));
        int port = givenPort > 0 ? givenPort : freePort();
        int controllerPort = freePort();
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(NODE_ID));
        p.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + "," + CONTROLLER_LISTENER + "://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        p.put("controller.listener.names", CONTROLLER_LISTENER);
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("log.dirs", logDir);
        p.put("auto.create.topics.enable", "false");
        p.put("num.partitions", "1");
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("transaction.max.timeout.ms", Long.toString(Duration.ofHours(1).toMillis()));
        p.put("log.flush.interval.messages", Long.toString(Long.MAX_VALUE));
        p.put("message.max.bytes", Integer.toString(KafkaSinks.MAX_MODEL_BYTES));   // model snapshots are whole files
        p.putAll(overrides);

        KafkaRaftServer server;
        try {
            KafkaConfig config = new KafkaConfig(p, false);
            if (!formatted) {
                new Formatter()
                        .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                        .setNodeId(NODE_ID)
                        .setClusterId(Uuid.randomUuid().toString())
                        .addDirectory(logDir)
                        .setMetadataLogDirectory(logDir)
                        .setControllerListenerName(CONTROLLER_LISTENER)
                        .setReleaseVersion(MetadataVersion.LATEST_PRODUCTION)
                        .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                        .run();
            }
            server = new KafkaRaftServer(config, Time.SYSTEM);
            server.startup();
        } catch (Exception e) {
            if (ownsDirectory) {
                deleteRecursively(directory);
            }
            if (String.valueOf(e.getMessage()).contains("Address already in use")) {
                throw new PortTakenException(e);
            }
            throw new IOException("cannot start the embedded Kafka broker in " + directory + ": " + e.getMessage(), e);
        }
        EmbeddedKafkaBroker broker = new EmbeddedKafkaBroker(directory, ownsDirectory, port, server);
        try {
            broker.awaitReady(Duration.ofSeconds(60));
        } catch (IOException | RuntimeException e) {
            broker.close();
            throw e;
        }
        LOG.info("Embedded Kafka broker ready at {} in {} ms", broker.bootstrapServers(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
        return broker;
    }

    /** {@code 127.0.0.1:<port>}, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** The directory holding the broker's data; deleted by {@link #close()} unless the caller gave it. */
    public Path directory() {
        return directory;
    }

    /** Creates a topic and waits until it exists. */
    public void createTopic(String name, int partitions) {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("cannot create topic '" + name + "': " + e.getCause().getMessage(), e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException("cannot create topic '" + name + "': " + e, e);
        }
    }

    /** An admin client for this broker; the caller closes it. */
    public Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        return Admin.create(p);
    }

    /**
     * Every record value of {@code topic} from its beginning to its current end, as a read_committed
     * consumer sees it (aborted or open transactions' records left out); gives up after {@code timeout}.
     */
    public List<byte[]> readCommitted(String topic, Duration timeout) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        List<byte[]> values = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(info -> new TopicPartition(topic, info.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + timeout.toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    values.add(r.value());
                }
            }
        }
        return values;
    }

    private void awaitReady(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = admin()) {
            while (true) {
                try {
                    if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (Exception e) {
                    if (System.nanoTime() > deadline) {
                        throw new IOException("embedded Kafka broker at " + bootstrapServers() + " not ready after " + timeout, e);
                    }
                }
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the embedded Kafka broker", e);
        }
    }

    /** Stops the broker and deletes its directory if it made it. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.shutdown();
            server.awaitShutdown();
        } finally {
            if (ownsDirectory) {
                deleteRecursively(directory);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete the embedded Kafka directory " + dir, e);
        }
    }

    private static final class PortTakenException extends IOException {
        private static final long serialVersionUID = 1L;

        PortTakenException(Throwable cause) {
            super(cause);
        }
    }
}
