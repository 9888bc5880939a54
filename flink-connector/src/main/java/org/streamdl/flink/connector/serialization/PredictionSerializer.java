package org.streamdl.flink.connector.serialization;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.streamdl.flink.connector.records.Prediction;

/** Predictions: key, named outputs, class and score, model version, three timestamps. */
public final class PredictionSerializer extends RecordSerializer<Prediction> {
    private static final long serialVersionUID = 1L;
    static final int CURRENT_FORMAT = 1;

    public PredictionSerializer() {
        this(CURRENT_FORMAT);
    }

    PredictionSerializer(int formatVersion) {
        super(formatVersion);
    }

    @Override
    public Prediction createInstance() {
        return new Prediction(null, java.util.Map.of(), org.streamdl.flink.connector.records.Sample.NO_CLASS, Float.NaN, 0, org.streamdl.flink.connector.records.Sample.NO_TIME, 0, 0);
    }

    @Override
    protected int currentFormatVersion() {
        return CURRENT_FORMAT;
    }

    @Override
    protected void write(Prediction r, DataOutputView out) throws IOException {
        Binary.writeNullableString(r.key(), out);
        Binary.writeTensors(r.outputs(), out);
        out.writeInt(r.predictedClass());
        out.writeFloat(r.score());
        out.writeLong(r.modelVersion());
        out.writeLong(r.eventTime());
        out.writeLong(r.receivedAt());
        out.writeLong(r.predictedAt());
    }

    @Override
    protected Prediction read(DataInputView in) throws IOException {
        return new Prediction(Binary.readNullableString(in), Binary.readTensors(in), in.readInt(), in.readFloat(),
                in.readLong(), in.readLong(), in.readLong(), in.readLong());
    }

    @Override
    public TypeSerializerSnapshot<Prediction> snapshotConfiguration() {
        return new Snapshot(formatVersion());
    }

    /** Flink instantiates snapshots reflectively, hence the public no-argument constructor. */
    public static final class Snapshot extends RecordSerializer.Snapshot<Prediction> {
        public Snapshot() {
            this(CURRENT_FORMAT);
        }

        Snapshot(int formatVersion) {
            super(PredictionSerializer::new, formatVersion);
        }
    }
}
