package org.streamdl.flink.connector.formats;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.tensor.DType;

/**
 * One CSV line of numeric features and an integer class label in a chosen column. The features
 * fill the spec's single float32 feature in row-major order, so their count must equal its element
 * count. Fields are plain numbers (no quoting); empty lines are refused like any other bad line.
 */
public final class CsvSampleFormat implements SampleFormat {
    private static final long serialVersionUID = 1L;

    private final char delimiter;
    private final int labelColumn;

    /**
     * @param delimiter   the field separator, usually ','
     * @param labelColumn the 0-based column of the class label, -1 for the last, or
     *                    {@link Integer#MIN_VALUE} when lines carry no label
     */
    public CsvSampleFormat(char delimiter, int labelColumn) {
        this.delimiter = delimiter;
        this.labelColumn = labelColumn;
    }

    public static CsvSampleFormat labelLast() {
        return new CsvSampleFormat(',', -1);
    }

    public static CsvSampleFormat unlabelled() {
        return new CsvSampleFormat(',', Integer.MIN_VALUE);
    }

    @Override
    public String name() {
        return "csv";
    }

    @Override
    public Sample decode(RawRecord record, SampleSpec spec) throws RecordException {
        spec.checkRecordSize(record.payload().length);
        SampleSpec.FeatureSpec feature = spec.singleFeature();
        if (feature == null || feature.dtype() != DType.FLOAT32) {
            throw new IllegalStateException("CSV samples need a spec with one float32 feature, not " + spec);
        }
        String line = new String(record.payload(), StandardCharsets.UTF_8);
        if (line.endsWith("\r")) {
            line = line.substring(0, line.length() - 1);
        }
        String[] fields = split(line);
        boolean labelled = labelColumn != Integer.MIN_VALUE;
        long expected = feature.elementCount() + (labelled ? 1 : 0);
        if (fields.length != expected) {
            throw new RecordException("record: expected " + expected + " columns (" + feature.elementCount() + " features"
                    + (labelled ? " and a label" : "") + "), found " + fields.length);
        }
        int label = labelled ? (labelColumn < 0 ? fields.length + labelColumn : labelColumn) : -1;
        if (labelled && (label < 0 || label >= fields.length)) {
            throw new IllegalStateException("label column " + labelColumn + " is outside " + fields.length + " columns");
        }
        byte[] bytes = new byte[(int) feature.elementCount() * 4];
        ByteBuffer out = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        Sample.Builder b = Sample.builder();
        for (int c = 0; c < fields.length; c++) {
            if (c == label) {
                b.labelClass(parseClass(fields[c], c));
            } else {
                out.putFloat(parseFloat(fields[c], c));
            }
        }
        return b.feature(feature.name(), AvroSampleFormat.tensor(DType.FLOAT32, feature.shape(), bytes, "features." + feature.name()))
                .build();
    }

    private String[] split(String line) {
        int n = 1;
        for (int i = 0; i < line.length(); i++) {
            if (line.charAt(i) == delimiter) {
                n++;
            }
        }
        String[] out = new String[n];
        int start = 0;
        for (int f = 0; f < n; f++) {
            int end = line.indexOf(delimiter, start);
            if (end < 0) {
                end = line.length();
            }
            out[f] = line.substring(start, end).trim();
            start = end + 1;
        }
        return out;
    }

    private static float parseFloat(String field, int column) throws RecordException {
        try {
            return Float.parseFloat(field);
        } catch (NumberFormatException e) {
            throw new RecordException("column " + (column + 1) + ": expected a number, found '" + abbreviate(field) + "'");
        }
    }

    private static int parseClass(String field, int column) throws RecordException {
        try {
            double v = Double.parseDouble(field);
            if (v != Math.rint(v) || v < 0 || v > Integer.MAX_VALUE) {
                throw new RecordException("label (column " + (column + 1) + "): expected a class index >= 0, found " + field);
            }
            return (int) v;
        } catch (NumberFormatException e) {
            throw new RecordException("label (column " + (column + 1) + "): expected a class index, found '"
                    + abbreviate(field) + "'");
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }
}
