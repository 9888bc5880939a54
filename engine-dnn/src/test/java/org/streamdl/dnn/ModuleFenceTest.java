package org.streamdl.dnn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * engine-dnn's fence (DESIGN.md section 5): nothing of Flink or Kafka; JavaCPP only in
 * {@code dnn.dnnl}, Avro only in {@code dnn.model}, protobuf only in {@code dnn.onnx}.
 */
class ModuleFenceTest {
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?([\\w.]+)", Pattern.MULTILINE);

    @Test
    void sourcesStayInsideTheirFence() throws IOException {
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                String path = f.toString().replace('\\', '/');
                Matcher m = IMPORT.matcher(Files.readString(f));
                while (m.find()) {
                    String problem = problem(path, m.group(1));
                    if (problem != null) {
                        offenders.add(f + ": " + problem);
                    }
                }
            }
        }
        assertTrue(offenders.isEmpty(), String.join("\n", offenders));
    }

    private static String problem(String path, String imported) {
        if (imported.startsWith("org.apache.flink.") || imported.startsWith("org.apache.kafka.")) {
            return "imports a streaming library (" + imported + ")";
        }
        if (imported.startsWith("org.bytedeco.") && !path.contains("/dnn/dnnl/")) {
            return "imports JavaCPP outside org.streamdl.dnn.dnnl (" + imported + ")";
        }
        if (imported.startsWith("org.apache.avro.") && !path.contains("/dnn/model/")) {
            return "imports Avro outside org.streamdl.dnn.model (" + imported + ")";
        }
        if (imported.startsWith("com.google.protobuf.") && !path.contains("/dnn/onnx/")) {
            return "imports protobuf outside org.streamdl.dnn.onnx (" + imported + ")";
        }
        boolean allowed = imported.startsWith("java.") || imported.startsWith("org.streamdl.")
                || imported.startsWith("org.bytedeco.") || imported.startsWith("org.apache.avro.")
                || imported.startsWith("com.google.protobuf.") || imported.startsWith("org.slf4j.");
        return allowed ? null : "imports " + imported + ", which is outside engine-dnn's dependencies";
    }
}
