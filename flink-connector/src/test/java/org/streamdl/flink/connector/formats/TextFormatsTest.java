package org.streamdl.flink.connector.formats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.streamdl.flink.connector.decode.DecodeSamples;
import org.streamdl.flink.connector.records.Origin;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.tensor.DType;

/** The JSON, CSV and IDX sample formats. */
class TextFormatsTest {
    private static final SampleSpec FOUR = SampleSpec.builder().feature("input", DType.FLOAT32, 2, 2).classLabel(5).build();

    private static RawRecord raw(String text) {
        return new RawRecord(text.getBytes(StandardCharsets.UTF_8), Origin.file("in.txt", 1), Sample.NO_TIME);
    }

    private static Sample decode(SampleFormat f, SampleSpec spec, String text) throws RecordException {
        return DecodeSamples.decode(f, spec, raw(text));
    }

    private static String reason(SampleFormat f, SampleSpec spec, String text) {
        return assertThrows(RecordException.class, () -> decode(f, spec, text)).getMessage();
    }

    @Test
    void jsonFlatAndNestedArraysTakeTheDeclaredShape() throws RecordException {
        JsonSampleFormat json = new JsonSampleFormat();
        Sample flat = decode(json, FOUR, "{\"features\": [1, 2.5, -3, 4e-1], \"label\": 3}");
        assertArrayEquals(new long[] {2, 2}, flat.feature("input").shape());
        assertArrayEquals(new float[] {1, 2.5f, -3, 0.4f}, flat.feature("input").toFloats());
        assertEquals(3, flat.labelClass());
        Sample nested = decode(json, FOUR, "{\"label\": 3, \"features\": {\"input\": [[1, 2.5], [-3, 0.4]]}}");
        assertEquals(flat, nested);
    }

    @Test
    void jsonCarriesKeyWeightEventTimeAndSeveralDtypes() throws RecordException {
        SampleSpec spec = SampleSpec.builder()
                .feature("amount", DType.FLOAT32, 1)
                .feature("merchant", DType.INT32, 2)
                .tensorLabel(DType.FLOAT32, 2).build();
        Sample s = decode(new JsonSampleFormat(), spec,
                "{\"key\": \"tx-9\", \"features\": {\"amount\": [12.5], \"merchant\": [7, -1]}, \"label\": [0.5, 1],"
                        + " \"weight\": 2, \"eventTime\": 1700000000000}");
        assertEquals("tx-9", s.key());
        assertEquals(2f, s.weight());
        assertEquals(1_700_000_000_000L, s.eventTime());
        assertArrayEquals(new byte[] {7, 0, 0, 0, -1, -1, -1, -1}, s.feature("merchant").bytes());
        assertEquals(TensorValue.ofFloats(new float[] {0.5f, 1f}, 2), s.labelTensor());
    }

    @Test
    void jsonMistakesNameTheField() {
        JsonSampleFormat json = new JsonSampleFormat();
        assertEquals("features.input: expected shape [2, 2], found [3]", reason(json, FOUR, "{\"features\": [1, 2, 3], \"label\": 1}"));
        assertEquals("features: expected a rectangular (non-ragged) nested array, found rows of different lengths or depths",
                reason(json, FOUR, "{\"features\": [[1, 2], [3]], \"label\": 1}"));
        assertEquals("features: expected numbers or arrays, found a string at element 1",
                reason(json, FOUR, "{\"features\": [1, \"NaN\", 3, 4], \"label\": 1}"));
        assertEquals("label: expected a class index in [0, 5), found 7", reason(json, FOUR, "{\"features\": [1, 2, 3, 4], \"label\": 7}"));
        assertEquals("label: expected a class index in [0, 5), found none", reason(json, FOUR, "{\"features\": [1, 2, 3, 4]}"));
        assertEquals("lable: expected one of key, features, label, weight, eventTime, found an unknown field",
                reason(json, FOUR, "{\"features\": [1, 2, 3, 4], \"lable\": 1}"));
        assertEquals("features.input: expected finite values, found Infinity at element 2",
                reason(json, FOUR, "{\"features\": [1, 2, 1e39, 4], \"label\": 1}"));
        assertEquals("record: expected a JSON object, found an array", reason(json, FOUR, "[1, 2]"));
        assertEquals("record: expected a sample, found an empty record", reason(json, FOUR, ""));
        String broken = reason(json, FOUR, "{\"features\": [1, 2,");
        assertEquals(true, broken.startsWith("record: not valid JSON at line 1"), broken);
        SampleSpec ints = SampleSpec.builder().feature("input", DType.UINT8, 2).build();
        assertEquals("features: expected integers in [0, 255], found 256.0 at element 1",
                reason(json, ints, "{\"features\": [3, 256]}"));
    }

    @Test
    void csvLinesWithTheLabelInAnyColumn() throws RecordException {
        Sample last = decode(CsvSampleFormat.labelLast(), FOUR, "1,2.5,-3,0.4,3\r");
        assertArrayEquals(new float[] {1, 2.5f, -3, 0.4f}, last.feature("input").toFloats());
        assertEquals(3, last.labelClass());
        Sample first = decode(new CsvSampleFormat(';', 0), FOUR, "3; 1; 2.5; -3; 0.4");
        assertEquals(last, first);
        SampleSpec unlabelled = SampleSpec.builder().feature("input", DType.FLOAT32, 2, 2).build();
        assertEquals(Sample.NO_CLASS, decode(CsvSampleFormat.unlabelled(), unlabelled, "1,2,3,4").labelClass());
    }

    @Test
    void csvMistakesNameTheColumn() {
        CsvSampleFormat csv = CsvSampleFormat.labelLast();
        assertEquals("record: expected 5 columns (4 features and a label), found 4", reason(csv, FOUR, "1,2,3,4"));
        assertEquals("column 2: expected a number, found 'abc'", reason(csv, FOUR, "1,abc,3,4,1"));
        assertEquals("label (column 5): expected a class index >= 0, found 1.5", reason(csv, FOUR, "1,2,3,4,1.5"));
        assertEquals("features.input: expected finite values, found NaN at element 0", reason(csv, FOUR, "NaN,2,3,4,1"));
        assertEquals("record: expected a sample, found an empty record", reason(csv, FOUR, ""));
    }

    @Test
    void idxRecordsScalePixelsToUnitRange() throws RecordException {
        SampleSpec spec = SampleSpec.builder().feature("input", DType.FLOAT32, 1, 2, 2).classLabel(10).build();
        RawRecord r = new RawRecord(new byte[] {7, 0, (byte) 255, 51, (byte) 128}, Origin.file("x-idx3", 0), Sample.NO_TIME);
        Sample s = DecodeSamples.decode(new IdxSampleFormat(), spec, r);
        assertEquals(7, s.labelClass());
        assertArrayEquals(new float[] {0, 1, 0.2f, 128 / 255f}, s.feature("input").toFloats());
    }
}
