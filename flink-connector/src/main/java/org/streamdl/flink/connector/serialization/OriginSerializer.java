package org.streamdl.flink.connector.serialization;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.streamdl.flink.connector.records.Origin;

/** Origins of raw records: kind, name, partition, position. */
public final class OriginSerializer extends RecordSerializer<Origin> {
    private static final long serialVersionUID = 1L;
    static final int CURRENT_FORMAT = 1;

    public OriginSerializer() {
        this(CURRENT_FORMAT);
    }

    OriginSerializer(int formatVersion) {
        super(formatVersion);
    }

    @Override
    public Origin createInstance() {
        return org.streamdl.flink.connector.records.Origin.other("");
    }

    @Override
    protected int currentFormatVersion() {
        return CURRENT_FORMAT;
    }

    @Override
    protected void write(Origin r, DataOutputView out) throws IOException {
        Binary.writeOrigin(r, out);
    }

    @Override
    protected Origin read(DataInputView in) throws IOException {
        return Binary.readOrigin(in);
    }

    @Override
    public TypeSerializerSnapshot<Origin> snapshotConfiguration() {
        return new Snapshot(formatVersion());
    }

    /** Flink instantiates snapshots reflectively, hence the public no-argument constructor. */
    public static final class Snapshot extends RecordSerializer.Snapshot<Origin> {
        public Snapshot() {
            this(CURRENT_FORMAT);
        }

        Snapshot(int formatVersion) {
            super(OriginSerializer::new, formatVersion);
        }
    }
}
