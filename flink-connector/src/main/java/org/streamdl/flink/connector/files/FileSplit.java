package org.streamdl.flink.connector.files;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * A range of records of one file, and how far a reader got in it. For CSV, {@code start} is a byte
 * offset where a line begins and {@code firstPosition} that line's number (1-based); for IDX,
 * both are the index of the first record. Immutable: progress makes a new split.
 */
public record FileSplit(String splitId, Kind kind, String path, String labelsPath, int recordBytes,
                        long start, long firstPosition, long count) implements SourceSplit {

    public enum Kind {
        CSV, IDX
    }

    @Override
    public String splitId() {
        return splitId;
    }

    /** The rest of this split after {@code records} more were read, ending at byte {@code nextStart} (CSV). */
    FileSplit advance(long records, long nextStart) {
        return new FileSplit(splitId, kind, path, labelsPath, recordBytes,
                kind == Kind.IDX ? start + records : nextStart, firstPosition + records, count - records);
    }

    /** Versioned binary form for checkpoints; never Java serialization. */
    static final class Serializer implements SimpleVersionedSerializer<FileSplit> {
        static final Serializer INSTANCE = new Serializer();

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(FileSplit s) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                write(s, out);
            }
            return bytes.toByteArray();
        }

        @Override
        public FileSplit deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) {
                throw new IOException("unknown file split version " + version);
            }
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
                return read(in);
            }
        }

        static void write(FileSplit s, DataOutputStream out) throws IOException {
            out.writeUTF(s.splitId);
            out.writeByte(s.kind.ordinal());
            out.writeUTF(s.path);
            out.writeBoolean(s.labelsPath != null);
            if (s.labelsPath != null) {
                out.writeUTF(s.labelsPath);
            }
            out.writeInt(s.recordBytes);
            out.writeLong(s.start);
            out.writeLong(s.firstPosition);
            out.writeLong(s.count);
        }

        static FileSplit read(DataInputStream in) throws IOException {
            String id = in.readUTF();
            Kind kind = Kind.values()[in.readUnsignedByte()];
            String path = in.readUTF();
            String labels = in.readBoolean() ? in.readUTF() : null;
            return new FileSplit(id, kind, path, labels, in.readInt(), in.readLong(), in.readLong(), in.readLong());
        }
    }

    /** The enumerator's checkpoint: the splits not yet handed out. */
    static final class ListSerializer implements SimpleVersionedSerializer<java.util.List<FileSplit>> {
        static final ListSerializer INSTANCE = new ListSerializer();

        @Override
        public int getVersion() {
            return 1;
        }

        @Override
        public byte[] serialize(java.util.List<FileSplit> splits) throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                out.writeInt(splits.size());
                for (FileSplit s : splits) {
                    Serializer.write(s, out);
                }
            }
            return bytes.toByteArray();
        }

        @Override
        public java.util.List<FileSplit> deserialize(int version, byte[] serialized) throws IOException {
            if (version != 1) {
                throw new IOException("unknown file split list version " + version);
            }
            try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(serialized))) {
                int n = in.readInt();
                java.util.List<FileSplit> splits = new java.util.ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    splits.add(Serializer.read(in));
                }
                return splits;
            }
        }
    }
}
