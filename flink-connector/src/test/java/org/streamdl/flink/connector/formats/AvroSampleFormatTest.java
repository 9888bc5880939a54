package org.streamdl.flink.connector.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;
import org.streamdl.flink.connector.TestRecords;
import org.streamdl.flink.connector.decode.DecodeSamples;
import org.streamdl.flink.connector.records.Origin;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.tensor.DType;

class AvroSampleFormatTest {
    private static final SampleSpec ANY = SampleSpec.builder().feature("x", DType.FLOAT32, 1).allowNonFinite(true).build();
    private final AvroSampleFormat format = new AvroSampleFormat();

    private static RawRecord raw(byte[] bytes) {
        return new RawRecord(bytes, Origin.kafka("samples", 0, 1), Sample.NO_TIME);
    }

    private String reason(byte[] bytes, SampleSpec spec) {
        return assertThrows(RecordException.class, () -> DecodeSamples.decode(format, spec, raw(bytes))).getMessage();
    }

    @Test
    void everySampleRoundTrips() throws RecordException {
        for (Sample s : TestRecords.samples()) {
            assertEquals(s, format.decode(raw(AvroSampleFormat.encode(s)), ANY));
        }
    }

    @Test
    void ourBytesAreWhatAvroItselfWritesAndReads() throws Exception {
        Sample s = TestRecords.samples()[1];
        byte[] ours = AvroSampleFormat.encode(s);
        GenericRecord viaAvro = new BinaryMessageDecoder<GenericRecord>(GenericData.get(), AvroSchemas.SAMPLE).decode(ours);
        assertEquals("tx-1", viaAvro.get("key").toString());
        assertEquals(2.5f, viaAvro.get("weight"));
        assertEquals(s, AvroSampleFormat.fromGeneric(viaAvro));
        byte[] written = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), AvroSchemas.SAMPLE).encode(viaAvro).array();
        assertArrayEquals(ours, Arrays.copyOf(written, written.length));
    }

    @Test
    void fashionMnistSamplesPassTheirSpec() throws RecordException {
        Sample s = TestRecords.image(9, 0.001f);
        assertEquals(s, DecodeSamples.decode(format, SampleSpec.fashionMnist(), raw(AvroSampleFormat.encode(s))));
    }

    @Test
    void theSourceTimestampFillsAMissingEventTime() throws RecordException {
        Sample s = TestRecords.image(1, 0.001f);
        Sample decoded = DecodeSamples.decode(format, SampleSpec.fashionMnist(),
                new RawRecord(AvroSampleFormat.encode(s), Origin.kafka("t", 0, 0), 1234L));
        assertEquals(1234L, decoded.eventTime());
    }

    @Test
    void badRecordsAreRefusedWithTheFieldExpectedAndFound() {
        SampleSpec mnist = SampleSpec.fashionMnist();
        assertEquals("record: expected a sample, found an empty record", reason(new byte[0], mnist));
        assertTrue(reason("not avro at all".getBytes(), mnist).startsWith(
                "header: expected Avro single-object encoding (C3 01 + 8-byte schema fingerprint), found 6E 6F"));

        Sample flat = Sample.classified(TensorValue.ofFloats(new float[784], 784), 1);
        assertEquals("features.input: expected shape [1, 28, 28], found [784]", reason(AvroSampleFormat.encode(flat), mnist));

        float[] pixels = new float[784];
        pixels[100] = Float.NaN;
        assertEquals("features.input: expected finite values, found NaN at element 100",
                reason(AvroSampleFormat.encode(Sample.classified(TensorValue.ofFloats(pixels, 1, 28, 28), 1)), mnist));
        pixels[100] = Float.NEGATIVE_INFINITY;
        assertEquals("features.input: expected finite values, found -Infinity at element 100",
                reason(AvroSampleFormat.encode(Sample.classified(TensorValue.ofFloats(pixels, 1, 28, 28), 1)), mnist));

        assertEquals("label: expected a class index in [0, 10), found 10",
                reason(AvroSampleFormat.encode(TestRecords.image(10, 0.001f)), mnist));

        Sample ints = Sample.classified(TensorValue.of(DType.INT32, new long[] {1, 28, 28}, new byte[784 * 4]), 2);
        assertEquals("features.input: expected dtype float32, found int32", reason(AvroSampleFormat.encode(ints), mnist));

        SampleSpec small = SampleSpec.builder().feature("input", DType.FLOAT32, 1, 28, 28).classLabel(10).maxRecordBytes(1000).build();
        assertEquals("record: expected at most 1000 bytes, found " + AvroSampleFormat.encode(TestRecords.image(1, 0)).length,
                reason(AvroSampleFormat.encode(TestRecords.image(1, 0)), small));
    }

    @Test
    void truncatedAndHostileRecordsFailBeforeAllocating() {
        byte[] good = AvroSampleFormat.encode(TestRecords.image(2, 0.001f));
        String truncated = reason(Arrays.copyOf(good, good.length - 100), SampleSpec.fashionMnist());
        assertTrue(truncated.startsWith("features.input.data: expected at most"), truncated);

        // A record that claims a 2^31-item feature array in a few bytes.
        byte[] hostile = Arrays.copyOf(good, 16);
        int at = 10;
        hostile[at++] = 0; // key: null branch
        hostile[at++] = (byte) 0xfe; // block count 2^31-1 as zig-zag varint
        hostile[at++] = (byte) 0xff;
        hostile[at++] = (byte) 0xff;
        hostile[at++] = (byte) 0xff;
        hostile[at] = 0x0f;
        String claim = reason(hostile, SampleSpec.fashionMnist());
        assertTrue(claim.startsWith("features: expected at most 0 items in the bytes left, found a count of 2147483647"), claim);

        byte[] trailing = Arrays.copyOf(good, good.length + 3);
        assertEquals("record: expected its end after eventTime, found 3 more bytes", reason(trailing, SampleSpec.fashionMnist()));
    }

    @Test
    void unknownWriterSchemasAreRefusedAndKnownOlderOnesAreResolved() throws Exception {
        // An older Sample schema without weight and eventTime: its records resolve to defaults.
        Schema older = new Schema.Parser().parse(AvroSchemas.SAMPLE.toString()
                .replace(",{\"name\":\"weight\",\"type\":\"float\",\"default\":1.0}", "")
                .replaceAll(",\\{\"name\":\"eventTime\".*?\"default\":null\\}", ""));
        assertEquals(3, older.getFields().size(), older.toString());
        GenericRecord r = new GenericData.Record(older);
        r.put("key", "old");
        Schema named = older.getField("features").schema().getElementType();
        GenericRecord tensor = new GenericData.Record(named.getField("tensor").schema());
        tensor.put("dtype", "float32");
        tensor.put("shape", List.of(1L));
        tensor.put("data", ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(0, 0.25f));
        GenericRecord feature = new GenericData.Record(named);
        feature.put("name", "x");
        feature.put("tensor", tensor);
        r.put("features", List.of(feature));
        r.put("label", 4);
        byte[] message = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), older).encode(r).array();

        String refused = reason(message, ANY);
        assertTrue(refused.startsWith("header: expected the fingerprint of a known Sample schema"), refused);

        Sample s = format.withWriterSchemas(older).decode(raw(message), ANY);
        assertEquals(Sample.builder().key("old").feature("x", TensorValue.ofFloats(new float[] {0.25f}, 1)).labelClass(4).build(), s);
    }

    @Test
    void finiteCheckFindsExactlyTheNonFiniteElements() {
        ByteBuffer b = ByteBuffer.allocate(4 * 6).order(ByteOrder.LITTLE_ENDIAN);
        b.putFloat(Float.MAX_VALUE).putFloat(-Float.MAX_VALUE).putFloat(Float.MIN_VALUE).putFloat(-0f).putFloat(1e38f * 10).putFloat(0);
        assertEquals(4, SampleSpec.firstNonFiniteFloat(b.array()));
        ByteBuffer finite = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(Float.MAX_VALUE).putFloat(-3);
        assertEquals(-1, SampleSpec.firstNonFiniteFloat(finite.array()));
        ByteBuffer nan = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putInt(0x7f800001);
        assertEquals(1, SampleSpec.firstNonFiniteFloat(nan.array()));
    }
}
