package org.streamdl.dnn.onnx;

import java.util.List;
import java.util.Map;

/**
 * The parts of an ONNX model StreamDL uses, as read by {@link OnnxReader}: the opset, the graph's
 * nodes in file order, its initializers (weights), inputs and outputs.
 */
public record OnnxModel(long irVersion, long opsetVersion, String producer, List<Node> nodes,
                        Map<String, Initializer> initializers, List<ValueInfo> inputs, List<ValueInfo> outputs) {

    /** One operator application. */
    public record Node(String name, String opType, String domain, List<String> inputs, List<String> outputs,
                       Map<String, Attribute> attributes) {
        public Attribute attribute(String key) {
            return attributes.get(key);
        }

        public long intAttribute(String key, long fallback) {
            Attribute a = attributes.get(key);
            return a == null ? fallback : a.i();
        }

        public float floatAttribute(String key, float fallback) {
            Attribute a = attributes.get(key);
            return a == null ? fallback : a.f();
        }

        public long[] intsAttribute(String key, long[] fallback) {
            Attribute a = attributes.get(key);
            return a == null ? fallback : a.ints();
        }

        /** How errors refer to the node: its name if it has one, else its first output, and its op type. */
        public String describe() {
            return "node '" + (name.isEmpty() ? (outputs.isEmpty() ? "?" : outputs.get(0)) : name) + "' (" + opType + ")";
        }
    }

    /** An attribute: only the fields of its kind are set. */
    public record Attribute(String name, float f, long i, byte[] s, long[] ints, float[] floats, Initializer t) {}

    /** A constant tensor: ONNX data type code, dims and little-endian element bytes. */
    public record Initializer(String name, int dataType, long[] dims, byte[] data) {
        public long elementCount() {
            long n = 1;
            for (long d : dims) {
                n *= d;
            }
            return n;
        }
    }

    /** A graph input or output: name, element type and dims (-1 where symbolic). */
    public record ValueInfo(String name, int elementType, long[] dims) {}
}
