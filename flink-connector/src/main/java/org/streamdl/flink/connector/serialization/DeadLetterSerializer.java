package org.streamdl.flink.connector.serialization;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.streamdl.flink.connector.records.DeadLetter;

/** Dead letters: payload bytes, origin, reason, time of failure. */
public final class DeadLetterSerializer extends RecordSerializer<DeadLetter> {
    private static final long serialVersionUID = 1L;
    static final int CURRENT_FORMAT = 1;

    public DeadLetterSerializer() {
        this(CURRENT_FORMAT);
    }

    DeadLetterSerializer(int formatVersion) {
        super(formatVersion);
    }

    @Override
    public DeadLetter createInstance() {
        return new DeadLetter(new byte[0], org.streamdl.flink.connector.records.Origin.other(""), "", 0);
    }

    @Override
    protected int currentFormatVersion() {
        return CURRENT_FORMAT;
    }

    @Override
    protected void write(DeadLetter r, DataOutputView out) throws IOException {
        Binary.writeBytes(r.payload(), out);
        Binary.writeOrigin(r.origin(), out);
        org.apache.flink.types.StringValue.writeString(r.reason(), out);
        out.writeLong(r.failedAt());
    }

    @Override
    protected DeadLetter read(DataInputView in) throws IOException {
        return new DeadLetter(Binary.readBytes(in), Binary.readOrigin(in),
                org.apache.flink.types.StringValue.readString(in), in.readLong());
    }

    @Override
    public TypeSerializerSnapshot<DeadLetter> snapshotConfiguration() {
        return new Snapshot(formatVersion());
    }

    /** Flink instantiates snapshots reflectively, hence the public no-argument constructor. */
    public static final class Snapshot extends RecordSerializer.Snapshot<DeadLetter> {
        public Snapshot() {
            this(CURRENT_FORMAT);
        }

        Snapshot(int formatVersion) {
            super(DeadLetterSerializer::new, formatVersion);
        }
    }
}
