package org.streamdl.tensor;

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

/** engine-tensor imports the JDK and itself only (DESIGN.md section 3); the pom fences dependencies. */
class ModuleFenceTest {
    private static final Pattern IMPORT = Pattern.compile("^import (?:static )?([\\w.]+)", Pattern.MULTILINE);

    @Test
    void sourcesImportTheJdkOnly() throws IOException {
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".java"))::iterator) {
                Matcher m = IMPORT.matcher(Files.readString(f));
                while (m.find()) {
                    String imported = m.group(1);
                    if (!imported.startsWith("java.") && !imported.startsWith("org.streamdl.tensor")) {
                        offenders.add(f + " imports " + imported);
                    }
                }
            }
        }
        assertTrue(offenders.isEmpty(), "engine-tensor must import the JDK only: " + offenders);
    }
}
