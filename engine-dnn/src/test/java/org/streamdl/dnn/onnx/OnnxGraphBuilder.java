package org.streamdl.dnn.onnx;

import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/** Writes small ONNX models field by field (onnx.proto numbers) for operator tests. */
final class OnnxGraphBuilder {
    private final List<byte[]> nodes = new ArrayList<>();
    private final List<byte[]> initializers = new ArrayList<>();
    private final String input;
    private final String output;

    OnnxGraphBuilder(String input, String output) {
        this.input = input;
        this.output = output;
    }

    interface Writer {
        void write(CodedOutputStream out) throws IOException;
    }

    static byte[] message(Writer w) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            CodedOutputStream out = CodedOutputStream.newInstance(bytes);
            w.write(out);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A node; attributes from {@link #ints}, {@link #floatAttribute}. */
    OnnxGraphBuilder node(String op, List<String> inputs, String out, byte[]... attributes) {
        nodes.add(message(n -> {
            for (String in : inputs) {
                n.writeString(1, in);
            }
            n.writeString(2, out);
            n.writeString(3, out + "_node");
            n.writeString(4, op);
            for (byte[] a : attributes) {
                n.writeByteArray(5, a);
            }
        }));
        return this;
    }

    OnnxGraphBuilder floats(String name, long[] dims, float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return tensor(name, OnnxReader.FLOAT, dims, b.array());
    }

    OnnxGraphBuilder int64s(String name, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            b.putLong(v);
        }
        return tensor(name, OnnxReader.INT64, new long[] {values.length}, b.array());
    }

    private OnnxGraphBuilder tensor(String name, int type, long[] dims, byte[] raw) {
        initializers.add(message(t -> {
            for (long d : dims) {
                t.writeInt64(1, d);
            }
            t.writeInt32(2, type);
            t.writeString(8, name);
            t.writeByteArray(9, raw);
        }));
        return this;
    }

    static byte[] intAttribute(String name, long value) {
        return message(a -> {
            a.writeString(1, name);
            a.writeInt64(3, value);
            a.writeInt32(20, 2); // INT
        });
    }

    static byte[] ints(String name, long... values) {
        return message(a -> {
            a.writeString(1, name);
            for (long v : values) {
                a.writeInt64(8, v);
            }
            a.writeInt32(20, 7); // INTS
        });
    }

    static byte[] floatAttribute(String name, float value) {
        return message(a -> {
            a.writeString(1, name);
            a.writeFloat(2, value);
            a.writeInt32(20, 1); // FLOAT
        });
    }

    byte[] build() {
        byte[] graph = message(g -> {
            for (byte[] n : nodes) {
                g.writeByteArray(1, n);
            }
            for (byte[] i : initializers) {
                g.writeByteArray(5, i);
            }
            g.writeByteArray(11, message(v -> v.writeString(1, input)));
            g.writeByteArray(12, message(v -> v.writeString(1, output)));
        });
        return message(m -> {
            m.writeInt64(1, 8);
            m.writeByteArray(8, message(o -> o.writeInt64(2, 17)));
            m.writeByteArray(7, graph);
        });
    }
}
