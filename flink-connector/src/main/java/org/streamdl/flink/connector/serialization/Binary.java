package org.streamdl.flink.connector.serialization;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.apache.flink.types.StringValue;
import org.streamdl.flink.connector.records.Origin;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.tensor.DType;

/** The building blocks of the record layouts, shared by the serializers. */
final class Binary {
    static final int MAX_RANK = 32;

    private Binary() {}

    static void writeNullableString(String s, DataOutputView out) throws IOException {
        out.writeBoolean(s != null);
        if (s != null) {
            StringValue.writeString(s, out);
        }
    }

    static String readNullableString(DataInputView in) throws IOException {
        return in.readBoolean() ? StringValue.readString(in) : null;
    }

    static void writeBytes(byte[] bytes, DataOutputView out) throws IOException {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    static byte[] readBytes(DataInputView in) throws IOException {
        int length = in.readInt();
        if (length < 0) {
            throw new IOException("corrupt record: negative byte count " + length);
        }
        byte[] bytes = new byte[length];
        in.readFully(bytes);
        return bytes;
    }

    static void writeTensor(TensorValue t, DataOutputView out) throws IOException {
        out.writeByte(t.dtype().code());
        out.writeByte(t.rank());
        for (int i = 0; i < t.rank(); i++) {
            out.writeLong(t.dim(i));
        }
        writeBytes(t.bytes(), out);
    }

    static TensorValue readTensor(DataInputView in) throws IOException {
        DType dtype = DType.fromCode(in.readUnsignedByte());
        int rank = in.readUnsignedByte();
        if (rank > MAX_RANK) {
            throw new IOException("corrupt tensor record: rank " + rank + " exceeds " + MAX_RANK);
        }
        long[] shape = new long[rank];
        for (int i = 0; i < rank; i++) {
            shape[i] = in.readLong();
        }
        try {
            return TensorValue.of(dtype, shape, readBytes(in));
        } catch (IllegalArgumentException e) {
            throw new IOException("corrupt tensor record: " + e.getMessage(), e);
        }
    }

    static void writeTensors(Map<String, TensorValue> tensors, DataOutputView out) throws IOException {
        out.writeInt(tensors.size());
        for (Map.Entry<String, TensorValue> e : tensors.entrySet()) {
            StringValue.writeString(e.getKey(), out);
            writeTensor(e.getValue(), out);
        }
    }

    static Map<String, TensorValue> readTensors(DataInputView in) throws IOException {
        int count = in.readInt();
        if (count < 0) {
            throw new IOException("corrupt record: negative tensor count " + count);
        }
        Map<String, TensorValue> tensors = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            tensors.put(StringValue.readString(in), readTensor(in));
        }
        return tensors;
    }

    static void writeOrigin(Origin o, DataOutputView out) throws IOException {
        out.writeByte(o.kind().ordinal());
        StringValue.writeString(o.name(), out);
        out.writeInt(o.partition());
        out.writeLong(o.position());
    }

    static Origin readOrigin(DataInputView in) throws IOException {
        int kind = in.readUnsignedByte();
        Origin.Kind[] kinds = Origin.Kind.values();
        if (kind >= kinds.length) {
            throw new IOException("corrupt origin record: kind " + kind);
        }
        return new Origin(kinds[kind], StringValue.readString(in), in.readInt(), in.readLong());
    }
}
