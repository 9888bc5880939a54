package org.streamdl.serving;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A standalone Flink cluster started with the build's {@code target/cluster/streamdl-cluster.sh}
 * (a JobManager and TaskManagers, each its own JVM) and a Kafka broker in a process of its own,
 * for tests that kill processes. {@link #close()} stops every process it started, whatever state
 * the test left them in; the test holds it in try-with-resources or an {@code @AfterAll}.
 */
final class ClusterProcesses implements AutoCloseable {
    static final Path SCRIPT = Path.of("target", "cluster", "streamdl-cluster.sh");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(4);

    private final Path dir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private Process broker;
    private String bootstrapServers;
    private int restPort = -1;

    private ClusterProcesses(Path dir) {
        this.dir = dir;
    }

    /**
     * Starts the broker, then the cluster with {@code taskManagers} TaskManagers of one slot each
     * and the given Flink options; on any failure stops what did start, and says why.
     */
    static ClusterProcesses start(Path dir, int taskManagers, String... flinkOptions) throws Exception {
        ClusterProcesses c = new ClusterProcesses(dir);
        try {
            c.startBroker();
            List<String> args = new ArrayList<>(List.of("start", "--dir", dir.resolve("flink").toString(),
                    "--taskmanagers", Integer.toString(taskManagers), "--slots", "1"));
            for (String option : flinkOptions) {
                args.add("-D");
                args.add(option);
            }
            String out = c.script(args);
            Matcher m = Pattern.compile("REST http://127\\.0\\.0\\.1:(\\d+)").matcher(out);
            if (!m.find()) {
                throw new IllegalStateException("the cluster script printed no REST address:\n" + out);
            }
            c.restPort = Integer.parseInt(m.group(1));
            return c;
        } catch (Exception | Error e) {
            c.close();
            throw e;
        }
    }

    private void startBroker() throws IOException, InterruptedException {
        Path log = dir.resolve("kafka.out");
        Files.createDirectories(dir);
        broker = new ProcessBuilder(javaBinary(), "-cp", System.getProperty("java.class.path"),
                "org.streamdl.flink.connector.kafka.embedded.EmbeddedKafkaBroker", "--data-dir", dir.resolve("kafka").toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Pattern ready = Pattern.compile("Kafka broker ready at (\\S+)");
        awaitTrue(Duration.ofMinutes(2), "the Kafka broker to start (" + log + ")", () -> {
            if (!broker.isAlive()) {
                throw new IllegalStateException("the Kafka broker exited: " + read(log));
            }
            Matcher m = ready.matcher(read(log));
            if (m.find()) {
                bootstrapServers = m.group(1);
                return true;
            }
            return false;
        });
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    Path flinkDir() {
        return dir.resolve("flink");
    }

    /** Submits a job JAR with Flink's command-line client, detached; returns the job's id. */
    String submitWithCli(Path jar, String... programArgs) throws Exception {
        List<String> args = new ArrayList<>(List.of("flink", "--dir", flinkDir().toString(), "run", "-d",
                jar.toAbsolutePath().toString()));
        args.addAll(List.of(programArgs));
        String out = script(args);
        Matcher m = Pattern.compile("JobID ([0-9a-f]{32})").matcher(out);
        if (!m.find()) {
            throw new IllegalStateException("flink run printed no job id:\n" + out);
        }
        return m.group(1);
    }

    /** Uploads a job JAR through the REST API ({@code /jars/upload}) and runs it ({@code /jars/:id/run}). */
    String submitWithRest(Path jar, String entryClass, String... programArgs) throws Exception {
        String boundary = "streamdl-" + UUID.randomUUID();
        byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"jarfile\"; filename=\""
                + jar.getFileName() + "\"\r\nContent-Type: application/x-java-archive\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
        HttpRequest upload = HttpRequest.newBuilder(rest("/jars/upload"))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.concat(HttpRequest.BodyPublishers.ofByteArray(head),
                        HttpRequest.BodyPublishers.ofFile(jar), HttpRequest.BodyPublishers.ofByteArray(tail)))
                .timeout(Duration.ofMinutes(2)).build();
        JsonNode uploaded = send(upload);
        String jarId = Path.of(uploaded.path("filename").asText()).getFileName().toString();
        String body = JSON.writeValueAsString(Map.of("entryClass", entryClass, "programArgsList", List.of(programArgs)));
        JsonNode run = send(HttpRequest.newBuilder(rest("/jars/" + jarId + "/run"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body))
                .timeout(Duration.ofMinutes(2)).build());
        String jobId = run.path("jobid").asText();
        if (jobId.isEmpty()) {
            throw new IllegalStateException("/jars/" + jarId + "/run gave no job id: " + run);
        }
        return jobId;
    }

    /** GET on the REST API, as JSON. */
    JsonNode get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(rest(path)).timeout(Duration.ofSeconds(30)).GET().build());
    }

    String jobState(String jobId) throws IOException, InterruptedException {
        return get("/jobs/" + jobId).path("state").asText();
    }

    long completedCheckpoints(String jobId) throws IOException, InterruptedException {
        return get("/jobs/" + jobId + "/checkpoints").path("counts").path("completed").asLong();
    }

    /**
     * For every vertex of the job whose name starts with {@code prefix}: subtask index to the
     * TaskManager running it, from {@code /jobs/:id/vertices/:vertex}.
     */
    Map<Integer, String> taskManagersOf(String jobId, String prefix) throws IOException, InterruptedException {
        for (JsonNode v : get("/jobs/" + jobId).path("vertices")) {
            if (v.path("name").asText().startsWith(prefix)) {
                Map<Integer, String> placed = new java.util.TreeMap<>();
                for (JsonNode s : get("/jobs/" + jobId + "/vertices/" + v.path("id").asText()).path("subtasks")) {
                    placed.put(s.path("subtask").asInt(), s.path("taskmanager-id").asText());
                }
                return placed;
            }
        }
        throw new IllegalStateException("job " + jobId + " has no vertex named " + prefix + "...");
    }

    /** The Prometheus endpoints of the running TaskManagers, from the script's port files. */
    List<URI> prometheusEndpoints() throws IOException {
        List<URI> endpoints = new ArrayList<>();
        try (var files = Files.list(flinkDir().resolve("pids"))) {
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                String name = f.getFileName().toString();
                if (name.endsWith(".prometheus-port") && isAlive(name.substring(0, name.indexOf('.')))) {
                    endpoints.add(URI.create("http://127.0.0.1:" + read(f).trim() + "/metrics"));
                }
            }
        }
        return endpoints;
    }

    String scrape(URI endpoint) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
    }

    private boolean isAlive(String process) throws IOException {
        Path pid = flinkDir().resolve("pids").resolve(process + ".pid");
        return Files.exists(pid) && ProcessHandle.of(Long.parseLong(read(pid).trim())).map(ProcessHandle::isAlive).orElse(false);
    }

    /** {@code kill -9} of TaskManager {@code index} (1-based, as the script names them); returns once it is gone. */
    void killTaskManager(int index) throws IOException {
        long pid = Long.parseLong(read(flinkDir().resolve("pids").resolve("taskmanager-" + index + ".pid")).trim());
        ProcessHandle p = ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("taskmanager-" + index
                + " (pid " + pid + ") is not running"));
        p.destroyForcibly();   // SIGKILL: no shutdown hook, no goodbye to the JobManager
        p.onExit().orTimeout(30, TimeUnit.SECONDS).join();
    }

    /**
     * The TaskManager index (1-based) whose resource id is {@code taskManagerId}, from the working
     * directory its own log names (other logs may mention the id of a peer).
     */
    int indexOf(String taskManagerId) throws IOException {
        for (int i = 1; Files.exists(flinkDir().resolve("log").resolve("taskmanager-" + i + ".log")); i++) {
            if (read(flinkDir().resolve("log").resolve("taskmanager-" + i + ".log")).contains("tm_" + taskManagerId + ")")) {
                return i;
            }
        }
        throw new IllegalStateException("no TaskManager log names its working directory tm_" + taskManagerId);
    }

    /** The highest attempt number of any subtask of the job: above 0 once the job has restarted. */
    int highestAttempt(String jobId) throws IOException, InterruptedException {
        int highest = 0;
        for (JsonNode v : get("/jobs/" + jobId).path("vertices")) {
            for (JsonNode s : get("/jobs/" + jobId + "/vertices/" + v.path("id").asText()).path("subtasks")) {
                highest = Math.max(highest, s.path("attempt").asInt());
            }
        }
        return highest;
    }

    /** Starts one more TaskManager and waits until it has registered. */
    void startTaskManager() throws Exception {
        script(List.of("start-taskmanager", "--dir", flinkDir().toString()));
    }

    /** Waits until every task of the job runs (the job is RUNNING well before its tasks are deployed). */
    void awaitAllTasksRunning(String jobId, Duration timeout) throws InterruptedException {
        awaitTrue(timeout, "every task of job " + jobId + " to run", () -> {
            JsonNode job = get("/jobs/" + jobId);
            if (List.of("FAILED", "CANCELED", "FINISHED").contains(job.path("state").asText())) {
                throw new AssertionError("job " + jobId + " is " + job.path("state").asText() + "; logs in " + flinkDir().resolve("log"));
            }
            for (JsonNode v : job.path("vertices")) {
                if (!List.of("RUNNING", "FINISHED").contains(v.path("status").asText())) {
                    return false;
                }
            }
            return true;
        });
    }

    /** Cancels every job that has not ended and waits until they have. */
    void cancelAll() throws IOException, InterruptedException {
        List<String> running = new ArrayList<>();
        for (JsonNode j : get("/jobs/overview").path("jobs")) {
            if (!List.of("FAILED", "CANCELED", "FINISHED").contains(j.path("state").asText())) {
                running.add(j.path("jid").asText());
                cancel(j.path("jid").asText());
            }
        }
        for (String job : running) {
            awaitTrue(Duration.ofMinutes(1), "job " + job + " to end", () -> List.of("FAILED", "CANCELED", "FINISHED")
                    .contains(jobState(job)));
        }
    }

    void cancel(String jobId) throws IOException, InterruptedException {
        http.send(HttpRequest.newBuilder(rest("/jobs/" + jobId + "?mode=cancel"))
                .method("PATCH", HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.discarding());
    }

    static void awaitTrue(Duration timeout, String what, Check check) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                if (check.test()) {
                    return;
                }
            } catch (IOException e) {
                // the REST endpoint or a file not there yet: try again until the deadline
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("waited " + timeout.toSeconds() + " s for " + what);
            }
            Thread.sleep(200);
        }
    }

    /** A condition that may fail with an IOException while the thing it watches is not ready. */
    @FunctionalInterface
    interface Check {
        boolean test() throws IOException, InterruptedException;
    }

    /** Waits until the job reaches {@code state}; fails at once if it reaches a terminal state that is not it. */
    void awaitJobState(String jobId, String state, Duration timeout) throws InterruptedException {
        awaitTrue(timeout, "job " + jobId + " to be " + state, () -> {
            String now = jobState(jobId);
            if (!now.equals(state) && List.of("FAILED", "CANCELED", "FINISHED").contains(now)) {
                throw new AssertionError("job " + jobId + " is " + now + ", not " + state + "; logs in " + flinkDir().resolve("log"));
            }
            return now.equals(state);
        });
    }

    private URI rest(String path) {
        return URI.create("http://127.0.0.1:" + restPort + path);
    }

    private JsonNode send(HttpRequest request) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IOException(request.method() + " " + request.uri() + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return JSON.readTree(r.body());
    }

    private String script(List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", SCRIPT.toString()));
        command.addAll(args);
        Path out = Files.createTempFile(dir, "script", ".out");
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(SCRIPT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not finish in " + SCRIPT_TIMEOUT + ":\n" + read(out));
        }
        String text = read(out);
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited with " + p.exitValue() + ":\n" + text);
        }
        return text;
    }

    private static String read(Path file) throws IOException {
        return Files.exists(file) ? Files.readString(file) : "";
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /**
     * Stops the cluster's processes by their pids (the script's stop), then the broker, and keeps
     * the processes' logs in {@code target/cluster-it-logs} (the test's directory is deleted).
     */
    @Override
    public void close() {
        try {
            if (Files.exists(flinkDir().resolve("pids"))) {
                script(List.of("stop", "--dir", flinkDir().toString()));
            }
            Path kept = Path.of("target", "cluster-it-logs");
            Files.createDirectories(kept);
            if (Files.exists(flinkDir().resolve("log"))) {
                try (var logs = Files.list(flinkDir().resolve("log"))) {
                    for (Path log : (Iterable<Path>) logs::iterator) {
                        Files.copy(log, kept.resolve(log.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (broker != null) {
                broker.destroy();
                try {
                    if (!broker.waitFor(30, TimeUnit.SECONDS)) {
                        broker.destroyForcibly();
                    }
                } catch (InterruptedException e) {
                    broker.destroyForcibly();
                    Thread.currentThread().interrupt();
                }
            }
        }
    }
}
