package org.streamdl.flink.connector.serialization;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.streamdl.flink.connector.records.RawRecord;

/** Raw records: payload bytes, origin, timestamp. */
public final class RawRecordSerializer extends RecordSerializer<RawRecord> {
    private static final long serialVersionUID = 1L;
    static final int CURRENT_FORMAT = 1;

    public RawRecordSerializer() {
        this(CURRENT_FORMAT);
    }

    RawRecordSerializer(int formatVersion) {
        super(formatVersion);
    }

    @Override
    public RawRecord createInstance() {
        return new RawRecord(new byte[0], org.streamdl.flink.connector.records.Origin.other(""), org.streamdl.flink.connector.records.Sample.NO_TIME);
    }

    @Override
    protected int currentFormatVersion() {
        return CURRENT_FORMAT;
    }

    @Override
    protected void write(RawRecord r, DataOutputView out) throws IOException {
        Binary.writeBytes(r.payload(), out);
        Binary.writeOrigin(r.origin(), out);
        out.writeLong(r.timestamp());
    }

    @Override
    protected RawRecord read(DataInputView in) throws IOException {
        return new RawRecord(Binary.readBytes(in), Binary.readOrigin(in), in.readLong());
    }

    @Override
    public TypeSerializerSnapshot<RawRecord> snapshotConfiguration() {
        return new Snapshot(formatVersion());
    }

    /** Flink instantiates snapshots reflectively, hence the public no-argument constructor. */
    public static final class Snapshot extends RecordSerializer.Snapshot<RawRecord> {
        public Snapshot() {
            this(CURRENT_FORMAT);
        }

        Snapshot(int formatVersion) {
            super(RawRecordSerializer::new, formatVersion);
        }
    }
}
