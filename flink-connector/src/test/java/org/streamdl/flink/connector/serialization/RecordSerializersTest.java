package org.streamdl.flink.connector.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.apache.flink.api.common.typeutils.SerializerTestBase;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputDeserializer;
import org.apache.flink.core.memory.DataOutputSerializer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.streamdl.flink.connector.TestRecords;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.connector.records.Origin;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.tensor.DType;

/** Flink's own serializer test suite over every record type, plus snapshot compatibility. */
class RecordSerializersTest {

    @Nested
    class Samples extends SerializerTestBase<Sample> {
        @Override protected TypeSerializer<Sample> createSerializer() { return new SampleSerializer(); }
        @Override protected int getLength() { return -1; }
        @Override protected Class<Sample> getTypeClass() { return Sample.class; }
        @Override protected Sample[] getTestData() { return TestRecords.samples(); }
    }

    @Nested
    class Tensors extends SerializerTestBase<TensorValue> {
        @Override protected TypeSerializer<TensorValue> createSerializer() { return new TensorValueSerializer(); }
        @Override protected int getLength() { return -1; }
        @Override protected Class<TensorValue> getTypeClass() { return TensorValue.class; }
        @Override protected TensorValue[] getTestData() {
            return new TensorValue[] {
                TensorValue.ofFloats(TestRecords.ramp(12, 1f), 3, 4),
                TensorValue.of(DType.INT8, new long[] {2}, new byte[] {-128, 127}),
                TensorValue.of(DType.BFLOAT16, new long[] {}, new byte[] {0, 0x3f}),
            };
        }
    }

    @Nested
    class Predictions extends SerializerTestBase<Prediction> {
        @Override protected TypeSerializer<Prediction> createSerializer() { return new PredictionSerializer(); }
        @Override protected int getLength() { return -1; }
        @Override protected Class<Prediction> getTypeClass() { return Prediction.class; }
        @Override protected Prediction[] getTestData() { return TestRecords.predictions(); }
    }

    @Nested
    class DeadLetters extends SerializerTestBase<DeadLetter> {
        @Override protected TypeSerializer<DeadLetter> createSerializer() { return new DeadLetterSerializer(); }
        @Override protected int getLength() { return -1; }
        @Override protected Class<DeadLetter> getTypeClass() { return DeadLetter.class; }
        @Override protected DeadLetter[] getTestData() { return TestRecords.deadLetters(); }
    }

    @Nested
    class ModelSnapshots extends SerializerTestBase<ModelSnapshot> {
        @Override protected TypeSerializer<ModelSnapshot> createSerializer() { return new ModelSnapshotSerializer(); }
        @Override protected int getLength() { return -1; }
        @Override protected Class<ModelSnapshot> getTypeClass() { return ModelSnapshot.class; }
        @Override protected ModelSnapshot[] getTestData() { return TestRecords.modelSnapshots(); }
    }

    @Nested
    class RawRecords extends SerializerTestBase<RawRecord> {
        @Override protected TypeSerializer<RawRecord> createSerializer() { return new RawRecordSerializer(); }
        @Override protected int getLength() { return -1; }
        @Override protected Class<RawRecord> getTypeClass() { return RawRecord.class; }
        @Override protected RawRecord[] getTestData() {
            return new RawRecord[] {
                new RawRecord(new byte[] {1, 2}, Origin.kafka("t", 0, 5), 17),
                new RawRecord(new byte[0], Origin.file("f.csv", 3), Sample.NO_TIME),
            };
        }
    }

    @Test
    void snapshotRoundTripRestoresAnEqualSerializer() throws IOException {
        TypeSerializerSnapshot<Sample> snapshot = new SampleSerializer().snapshotConfiguration();
        DataOutputSerializer out = new DataOutputSerializer(64);
        TypeSerializerSnapshot.writeVersionedSnapshot(out, snapshot);
        TypeSerializerSnapshot<Sample> restored = TypeSerializerSnapshot.readVersionedSnapshot(
                new DataInputDeserializer(out.getCopyOfBuffer()), getClass().getClassLoader());
        assertEquals(new SampleSerializer(), restored.restoreSerializer());
        assertTrue(new SampleSerializer().snapshotConfiguration().resolveSchemaCompatibility(restored).isCompatibleAsIs());
    }

    @Test
    void aNewerRecordFormatThanThisCodeKnowsIsIncompatible() {
        SampleSerializer.Snapshot fromTheFuture = new SampleSerializer.Snapshot();
        DataOutputSerializer out = new DataOutputSerializer(8);
        TypeSerializerSchemaCompatibility<Sample> compatibility;
        try {
            out.writeInt(SampleSerializer.CURRENT_FORMAT + 1);
            fromTheFuture.readSnapshot(1, new DataInputDeserializer(out.getCopyOfBuffer()), getClass().getClassLoader());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        compatibility = new SampleSerializer.Snapshot().resolveSchemaCompatibility(fromTheFuture);
        assertTrue(compatibility.isIncompatible());
        assertThrows(IllegalArgumentException.class, fromTheFuture::restoreSerializer);
    }

    @Test
    void aSnapshotOfAnotherSerializerIsIncompatible() {
        TypeSerializerSchemaCompatibility<Sample> c = new SampleSerializer.Snapshot()
                .resolveSchemaCompatibility(castSnapshot(new PredictionSerializer.Snapshot()));
        assertTrue(c.isIncompatible());
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static TypeSerializerSnapshot<Sample> castSnapshot(TypeSerializerSnapshot s) {
        return s;
    }

    @Test
    void corruptTensorBytesAreRefusedWithTheShape() throws IOException {
        DataOutputSerializer out = new DataOutputSerializer(64);
        out.writeByte(DType.FLOAT32.code());
        out.writeByte(2);
        out.writeLong(2);
        out.writeLong(3);
        out.writeInt(8); // 24 needed
        out.write(new byte[8]);
        IOException e = assertThrows(IOException.class,
                () -> new TensorValueSerializer().deserialize(new DataInputDeserializer(out.getCopyOfBuffer())));
        assertTrue(e.getMessage().contains("[2, 3]"), e.getMessage());
    }
}
