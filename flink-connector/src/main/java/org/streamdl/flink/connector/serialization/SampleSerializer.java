package org.streamdl.flink.connector.serialization;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.streamdl.flink.connector.records.Sample;

/** Samples: key, named features, class label, optional label tensor, weight, event time. */
public final class SampleSerializer extends RecordSerializer<Sample> {
    private static final long serialVersionUID = 1L;
    static final int CURRENT_FORMAT = 1;

    public SampleSerializer() {
        this(CURRENT_FORMAT);
    }

    SampleSerializer(int formatVersion) {
        super(formatVersion);
    }

    @Override
    public Sample createInstance() {
        return Sample.classified(org.streamdl.flink.connector.records.TensorValue.ofFloats(new float[0], 0), org.streamdl.flink.connector.records.Sample.NO_CLASS);
    }

    @Override
    protected int currentFormatVersion() {
        return CURRENT_FORMAT;
    }

    @Override
    protected void write(Sample r, DataOutputView out) throws IOException {
        Binary.writeNullableString(r.key(), out);
        Binary.writeTensors(r.features(), out);
        out.writeInt(r.labelClass());
        out.writeBoolean(r.labelTensor() != null);
        if (r.labelTensor() != null) {
            Binary.writeTensor(r.labelTensor(), out);
        }
        out.writeFloat(r.weight());
        out.writeLong(r.eventTime());
    }

    @Override
    protected Sample read(DataInputView in) throws IOException {
        Sample.Builder b = Sample.builder().key(Binary.readNullableString(in));
        for (var feature : Binary.readTensors(in).entrySet()) {
            b.feature(feature.getKey(), feature.getValue());
        }
        b.labelClass(in.readInt());
        if (in.readBoolean()) {
            b.labelTensor(Binary.readTensor(in));
        }
        try {
            return b.weight(in.readFloat()).eventTime(in.readLong()).build();
        } catch (IllegalArgumentException e) {
            throw new IOException("corrupt sample record: " + e.getMessage(), e);
        }
    }

    @Override
    public TypeSerializerSnapshot<Sample> snapshotConfiguration() {
        return new Snapshot(formatVersion());
    }

    /** Flink instantiates snapshots reflectively, hence the public no-argument constructor. */
    public static final class Snapshot extends RecordSerializer.Snapshot<Sample> {
        public Snapshot() {
            this(CURRENT_FORMAT);
        }

        Snapshot(int formatVersion) {
            super(SampleSerializer::new, formatVersion);
        }
    }
}
