package org.streamdl.flink.connector.serialization;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.streamdl.flink.connector.records.ModelSnapshot;

/** Model snapshots: name, version, samples applied, creation time, then the model file's bytes in one piece. */
public final class ModelSnapshotSerializer extends RecordSerializer<ModelSnapshot> {
    private static final long serialVersionUID = 1L;
    static final int CURRENT_FORMAT = 1;

    public ModelSnapshotSerializer() {
        this(CURRENT_FORMAT);
    }

    ModelSnapshotSerializer(int formatVersion) {
        super(formatVersion);
    }

    @Override
    public ModelSnapshot createInstance() {
        return new ModelSnapshot("", 0, 0, 0, new byte[0]);
    }

    @Override
    protected int currentFormatVersion() {
        return CURRENT_FORMAT;
    }

    @Override
    protected void write(ModelSnapshot r, DataOutputView out) throws IOException {
        org.apache.flink.types.StringValue.writeString(r.modelName(), out);
        out.writeLong(r.version());
        out.writeLong(r.samplesApplied());
        out.writeLong(r.createdAt());
        Binary.writeBytes(r.modelFile(), out);
    }

    @Override
    protected ModelSnapshot read(DataInputView in) throws IOException {
        return new ModelSnapshot(org.apache.flink.types.StringValue.readString(in), in.readLong(), in.readLong(),
                in.readLong(), Binary.readBytes(in));
    }

    @Override
    public TypeSerializerSnapshot<ModelSnapshot> snapshotConfiguration() {
        return new Snapshot(formatVersion());
    }

    /** Flink instantiates snapshots reflectively, hence the public no-argument constructor. */
    public static final class Snapshot extends RecordSerializer.Snapshot<ModelSnapshot> {
        public Snapshot() {
            this(CURRENT_FORMAT);
        }

        Snapshot(int formatVersion) {
            super(ModelSnapshotSerializer::new, formatVersion);
        }
    }
}
