package org.streamdl.dnn.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads ONNX model files with protobuf's wire-format reader against the field numbers of the ONNX
 * specification (onnx.proto: ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
 * ValueInfoProto), keeping only what import needs. Every length and element count is checked
 * against the bytes present before anything is allocated, so a truncated or hostile file is
 * refused with the file's name and the problem, never an out-of-memory error.
 */
public final class OnnxReader {
    /** ONNX TensorProto.DataType codes StreamDL reads. */
    public static final int FLOAT = 1;
    public static final int UINT8 = 2;
    public static final int INT8 = 3;
    public static final int INT32 = 6;
    public static final int INT64 = 7;

    private static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;
    private static final int MAX_RANK = 32;

    private final String file;

    private OnnxReader(String file) {
        this.file = file;
    }

    public static OnnxModel read(Path path) throws IOException, OnnxFormatException {
        long size = Files.size(path);
        if (size > MAX_FILE_BYTES) {
            throw new OnnxFormatException(path + ": " + size + " bytes is larger than the 2 GB ONNX files without "
                    + "external data can be");
        }
        return read(Files.readAllBytes(path), path.toString());
    }

    /** Parses {@code bytes}; {@code name} is used in error messages. */
    public static OnnxModel read(byte[] bytes, String name) throws OnnxFormatException {
        try {
            return new OnnxReader(name).model(CodedInputStream.newInstance(bytes), bytes.length);
        } catch (InvalidProtocolBufferException e) {
            throw new OnnxFormatException(name + ": not a valid ONNX (protobuf) file: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new OnnxFormatException(name + ": cannot be read: " + e.getMessage(), e);
        }
    }

    private OnnxModel model(CodedInputStream in, int length) throws IOException, OnnxFormatException {
        long irVersion = -1;
        long opset = -1;
        String producer = "";
        GraphParts graph = null;
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> irVersion = in.readInt64();
                case 2 -> producer = in.readString();
                case 7 -> graph = nested(in, length, "graph", () -> graph(in, length));
                case 8 -> {
                    long[] domainAndVersion = nested(in, length, "opset_import", () -> opset(in));
                    if (domainAndVersion[0] == 0) { // the default ("ai.onnx") domain
                        opset = domainAndVersion[1];
                    }
                }
                default -> in.skipField(tag);
            }
        }
        if (graph == null) {
            throw new OnnxFormatException(file + ": has no graph; is it an ONNX model file?");
        }
        if (irVersion < 3) {
            throw new OnnxFormatException(file + ": ir_version " + irVersion + " is not an ONNX model this reader "
                    + "understands (expected 3 or later)");
        }
        return new OnnxModel(irVersion, opset, producer, graph.nodes, graph.initializers, graph.inputs, graph.outputs);
    }

    private interface Part<T> {
        T read() throws IOException, OnnxFormatException;
    }

    /** Reads a length-delimited sub-message, checking its length against what is left. */
    private <T> T nested(CodedInputStream in, int total, String field, Part<T> part) throws IOException, OnnxFormatException {
        int length = in.readRawVarint32();
        if (length < 0 || length > total - in.getTotalBytesRead()) {
            throw new OnnxFormatException(file + ": field " + field + " claims " + length + " bytes but only "
                    + (total - in.getTotalBytesRead()) + " are left (truncated or corrupted file)");
        }
        int limit = in.pushLimit(length);
        T value = part.read();
        in.popLimit(limit);
        return value;
    }

    private long[] opset(CodedInputStream in) throws IOException {
        long domainEmpty = 0;
        long version = -1;
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> {
                    String domain = in.readString();
                    domainEmpty = domain.isEmpty() || domain.equals("ai.onnx") ? 0 : 1;
                }
                case 2 -> version = in.readInt64();
                default -> in.skipField(tag);
            }
        }
        return new long[] {domainEmpty, version};
    }

    private static final class GraphParts {
        final List<OnnxModel.Node> nodes = new ArrayList<>();
        final Map<String, OnnxModel.Initializer> initializers = new LinkedHashMap<>();
        final List<OnnxModel.ValueInfo> inputs = new ArrayList<>();
        final List<OnnxModel.ValueInfo> outputs = new ArrayList<>();
    }

    private GraphParts graph(CodedInputStream in, int total) throws IOException, OnnxFormatException {
        GraphParts g = new GraphParts();
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> g.nodes.add(nested(in, total, "node", () -> node(in, total)));
                case 5 -> {
                    OnnxModel.Initializer t = nested(in, total, "initializer", () -> tensor(in, total));
                    g.initializers.put(t.name(), t);
                }
                case 11 -> g.inputs.add(nested(in, total, "input", () -> valueInfo(in, total)));
                case 12 -> g.outputs.add(nested(in, total, "output", () -> valueInfo(in, total)));
                default -> in.skipField(tag);
            }
        }
        return g;
    }

    private OnnxModel.Node node(CodedInputStream in, int total) throws IOException, OnnxFormatException {
        List<String> inputs = new ArrayList<>();
        List<String> outputs = new ArrayList<>();
        String name = "";
        String opType = "";
        String domain = "";
        Map<String, OnnxModel.Attribute> attributes = new LinkedHashMap<>();
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> inputs.add(in.readString());
                case 2 -> outputs.add(in.readString());
                case 3 -> name = in.readString();
                case 4 -> opType = in.readString();
                case 5 -> {
                    OnnxModel.Attribute a = nested(in, total, "attribute", () -> attribute(in, total));
                    attributes.put(a.name(), a);
                }
                case 7 -> domain = in.readString();
                default -> in.skipField(tag);
            }
        }
        return new OnnxModel.Node(name, opType, domain, inputs, outputs, attributes);
    }

    private OnnxModel.Attribute attribute(CodedInputStream in, int total) throws IOException, OnnxFormatException {
        String name = "";
        float f = 0;
        long i = 0;
        byte[] s = null;
        List<Long> ints = new ArrayList<>();
        List<Float> floats = new ArrayList<>();
        OnnxModel.Initializer t = null;
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            int wire = WireFormat.getTagWireType(tag);
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> name = in.readString();
                case 2 -> f = in.readFloat();
                case 3 -> i = in.readInt64();
                case 4 -> s = in.readByteArray();
                case 5 -> t = nested(in, total, "attribute tensor", () -> tensor(in, total));
                case 7 -> readFloats(in, wire, floats, total);
                case 8 -> readLongs(in, wire, ints, total);
                default -> in.skipField(tag);
            }
        }
        long[] intArray = ints.stream().mapToLong(Long::longValue).toArray();
        float[] floatArray = new float[floats.size()];
        for (int k = 0; k < floatArray.length; k++) {
            floatArray[k] = floats.get(k);
        }
        return new OnnxModel.Attribute(name, f, i, s, intArray, floatArray, t);
    }

    private OnnxModel.ValueInfo valueInfo(CodedInputStream in, int total) throws IOException, OnnxFormatException {
        String name = "";
        int[] elementType = {0};
        List<Long> dims = new ArrayList<>();
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> name = in.readString();
                case 2 -> nested(in, total, "type", () -> typeProto(in, total, elementType, dims));
                default -> in.skipField(tag);
            }
        }
        return new OnnxModel.ValueInfo(name, elementType[0], dims.stream().mapToLong(Long::longValue).toArray());
    }

    // TypeProto.tensor_type (1) → Tensor {elem_type 1, shape 2 → TensorShapeProto {dim 1 → {dim_value 1, dim_param 2}}}
    private Void typeProto(CodedInputStream in, int total, int[] elementType, List<Long> dims)
            throws IOException, OnnxFormatException {
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            if (WireFormat.getTagFieldNumber(tag) == 1) {
                nested(in, total, "tensor_type", () -> {
                    while (!in.isAtEnd()) {
                        int t = in.readTag();
                        switch (WireFormat.getTagFieldNumber(t)) {
                            case 1 -> elementType[0] = in.readInt32();
                            case 2 -> nested(in, total, "shape", () -> {
                                while (!in.isAtEnd()) {
                                    int d = in.readTag();
                                    if (WireFormat.getTagFieldNumber(d) == 1) {
                                        dims.add(nested(in, total, "dim", () -> dimension(in)));
                                    } else {
                                        in.skipField(d);
                                    }
                                }
                                return null;
                            });
                            default -> in.skipField(t);
                        }
                    }
                    return null;
                });
            } else {
                in.skipField(tag);
            }
        }
        return null;
    }

    private static long dimension(CodedInputStream in) throws IOException {
        long value = -1; // a symbolic dimension (dim_param) such as the batch size
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            if (WireFormat.getTagFieldNumber(tag) == 1) {
                value = in.readInt64();
            } else {
                in.skipField(tag);
            }
        }
        return value;
    }

    private OnnxModel.Initializer tensor(CodedInputStream in, int total) throws IOException, OnnxFormatException {
        List<Long> dims = new ArrayList<>();
        int dataType = 0;
        String name = "";
        byte[] raw = null;
        List<Float> floatData = new ArrayList<>();
        List<Long> intData = new ArrayList<>();
        boolean external = false;
        while (!in.isAtEnd()) {
            int tag = in.readTag();
            int wire = WireFormat.getTagWireType(tag);
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> readLongs(in, wire, dims, total);
                case 2 -> dataType = in.readInt32();
                case 4 -> readFloats(in, wire, floatData, total);
                case 5, 7 -> readLongs(in, wire, intData, total);
                case 8 -> name = in.readString();
                case 9 -> raw = in.readByteArray();
                case 14 -> external = in.readInt32() == 1;
                default -> in.skipField(tag);
            }
        }
        if (external) {
            throw new OnnxFormatException(file + ": tensor '" + name + "' keeps its data in an external file, which "
                    + "this importer does not read");
        }
        if (dims.size() > MAX_RANK) {
            throw new OnnxFormatException(file + ": tensor '" + name + "' has rank " + dims.size() + " (at most " + MAX_RANK + ")");
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        long elements = 1;
        for (long d : shape) {
            if (d < 0 || (d > 0 && elements > Long.MAX_VALUE / d)) {
                throw new OnnxFormatException(file + ": tensor '" + name + "' has impossible dims " + dims);
            }
            elements *= d;
        }
        int width = switch (dataType) {
            case FLOAT, INT32 -> 4;
            case UINT8, INT8 -> 1;
            case INT64 -> 8;
            default -> 0;
        };
        if (width == 0) {
            return new OnnxModel.Initializer(name, dataType, shape, new byte[0]); // reported by the importer if used
        }
        if (elements * width > total) {
            throw new OnnxFormatException(file + ": tensor '" + name + "' claims " + elements + " elements ("
                    + elements * width + " bytes) in a file of " + total + " bytes");
        }
        byte[] data;
        if (raw != null) {
            if (raw.length != elements * width) {
                throw new OnnxFormatException(file + ": tensor '" + name + "' has dims " + dims + " (" + elements * width
                        + " bytes) but " + raw.length + " bytes of raw_data");
            }
            data = raw;
        } else {
            int count = dataType == FLOAT ? floatData.size() : intData.size();
            if (count != elements) {
                throw new OnnxFormatException(file + ": tensor '" + name + "' has dims " + dims + " (" + elements
                        + " elements) but " + count + " values");
            }
            ByteBuffer b = ByteBuffer.allocate((int) (elements * width)).order(ByteOrder.LITTLE_ENDIAN);
            for (int k = 0; k < count; k++) {
                switch (dataType) {
                    case FLOAT -> b.putFloat(floatData.get(k));
                    case INT64 -> b.putLong(intData.get(k));
                    case INT32 -> b.putInt(intData.get(k).intValue());
                    default -> b.put((byte) intData.get(k).longValue());
                }
            }
            data = b.array();
        }
        return new OnnxModel.Initializer(name, dataType, shape, data);
    }

    private void readLongs(CodedInputStream in, int wire, List<Long> out, int total) throws IOException, OnnxFormatException {
        if (wire == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
            nested(in, total, "packed integers", () -> {
                while (!in.isAtEnd()) {
                    out.add(in.readInt64());
                }
                return null;
            });
        } else {
            out.add(in.readInt64());
        }
    }

    private void readFloats(CodedInputStream in, int wire, List<Float> out, int total) throws IOException, OnnxFormatException {
        if (wire == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
            nested(in, total, "packed floats", () -> {
                while (!in.isAtEnd()) {
                    out.add(in.readFloat());
                }
                return null;
            });
        } else {
            out.add(in.readFloat());
        }
    }
}
