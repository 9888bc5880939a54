package org.streamdl.flink.connector.serialization;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.streamdl.flink.connector.records.TensorValue;

/** Tensor values: dtype code, rank, extents, then the little-endian elements. */
public final class TensorValueSerializer extends RecordSerializer<TensorValue> {
    private static final long serialVersionUID = 1L;
    static final int CURRENT_FORMAT = 1;

    public TensorValueSerializer() {
        this(CURRENT_FORMAT);
    }

    TensorValueSerializer(int formatVersion) {
        super(formatVersion);
    }

    @Override
    public TensorValue createInstance() {
        return TensorValue.ofFloats(new float[0], 0);
    }

    @Override
    protected int currentFormatVersion() {
        return CURRENT_FORMAT;
    }

    @Override
    protected void write(TensorValue r, DataOutputView out) throws IOException {
        Binary.writeTensor(r, out);
    }

    @Override
    protected TensorValue read(DataInputView in) throws IOException {
        return Binary.readTensor(in);
    }

    @Override
    public TypeSerializerSnapshot<TensorValue> snapshotConfiguration() {
        return new Snapshot(formatVersion());
    }

    /** Flink instantiates snapshots reflectively, hence the public no-argument constructor. */
    public static final class Snapshot extends RecordSerializer.Snapshot<TensorValue> {
        public Snapshot() {
            this(CURRENT_FORMAT);
        }

        Snapshot(int formatVersion) {
            super(TensorValueSerializer::new, formatVersion);
        }
    }
}
