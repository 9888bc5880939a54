package org.streamdl.dnn.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.TensorBytes;

/**
 * PyTorch golden tensors made by {@code tools/golden/make_layer_golden.py} (see its docstring):
 * {@code golden/manifest.txt} names each raw file with its dtype and shape.
 */
public final class Golden {
    private static final String ROOT = "/org/streamdl/dnn/golden/";
    private final Map<String, String[]> entries = new HashMap<>();

    private Golden() {
        try (InputStream in = Golden.class.getResourceAsStream(ROOT + "manifest.txt")) {
            if (in == null) {
                throw new IllegalStateException("missing " + ROOT + "manifest.txt");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (!line.startsWith("#") && !line.isBlank()) {
                    String[] parts = line.split(" ");
                    entries.put(parts[0], parts);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Golden load() {
        return new Golden();
    }

    public boolean has(String name) {
        return entries.containsKey(name);
    }

    public Tensor tensor(String name, Allocator allocator) {
        String[] entry = entries.get(name);
        if (entry == null) {
            throw new IllegalArgumentException("no golden tensor '" + name + "'");
        }
        DType dtype = DType.fromName(entry[1]);
        long[] dims = entry.length < 3 || entry[2].isEmpty() ? new long[0]
                : java.util.Arrays.stream(entry[2].split(",")).mapToLong(Long::parseLong).toArray();
        try (InputStream in = Golden.class.getResourceAsStream(ROOT + name + ".bin")) {
            if (in == null) {
                throw new IllegalStateException("missing golden file " + name + ".bin");
            }
            return TensorBytes.readRaw(ByteBuffer.wrap(in.readAllBytes()), dtype, Shape.of(dims), allocator);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
