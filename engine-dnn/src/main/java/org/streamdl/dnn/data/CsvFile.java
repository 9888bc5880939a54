package org.streamdl.dnn.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A CSV file of numeric features and one numeric label column, read whole into memory. Fields are
 * separated by a single delimiter character (no quoting: numeric data needs none). Every value must
 * be a finite number; a bad line is refused with its number, the column and the text found.
 */
public final class CsvFile {
    private final String[] featureNames;
    private final String labelName;
    private final float[] features;   // rows x featureNames.length, row-major
    private final double[] labels;

    private CsvFile(String[] featureNames, String labelName, float[] features, double[] labels) {
        this.featureNames = featureNames;
        this.labelName = labelName;
        this.features = features;
        this.labels = labels;
    }

    /** How to read a file: the label column by header name or index, the delimiter, and whether a header exists. */
    public record Options(String labelColumnName, int labelColumnIndex, boolean hasHeader, char delimiter) {
        /** The header names the columns; the label is the column with this name. */
        public static Options labelNamed(String name) {
            return new Options(name, -1, true, ',');
        }

        /** No header; the label is the column at {@code index} (negative counts from the end). */
        public static Options labelAt(int index, boolean hasHeader) {
            return new Options(null, index, hasHeader, ',');
        }

        public Options withDelimiter(char d) {
            return new Options(labelColumnName, labelColumnIndex, hasHeader, d);
        }
    }

    public static CsvFile read(Path file, Options options) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new DatasetFormatException(file, "no such file");
        }
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String first = nextNonEmpty(reader);
            if (first == null) {
                throw new DatasetFormatException(file, "is empty");
            }
            int lineNumber = 1;
            String[] header;
            String line;
            if (options.hasHeader()) {
                header = split(first, options.delimiter());
                line = reader.readLine();
                lineNumber++;
            } else {
                int columns = split(first, options.delimiter()).length;
                header = new String[columns];
                for (int i = 0; i < columns; i++) {
                    header[i] = "column " + i;
                }
                line = first;
            }
            int columns = header.length;
            int labelIndex = labelIndex(file, header, options);
            String[] featureNames = new String[columns - 1];
            for (int i = 0, j = 0; i < columns; i++) {
                if (i != labelIndex) {
                    featureNames[j++] = header[i];
                }
            }
            FloatList features = new FloatList();
            List<Double> labels = new ArrayList<>();
            for (; line != null; line = reader.readLine(), lineNumber++) {
                if (line.isBlank()) {
                    continue;
                }
                String[] fields = split(line, options.delimiter());
                if (fields.length != columns) {
                    throw new DatasetFormatException(file, "line " + lineNumber + " has " + fields.length
                            + " fields, expected " + columns + (options.hasHeader() ? " (as in the header)" : " (as on the first line)"));
                }
                for (int i = 0; i < columns; i++) {
                    double v = parse(file, lineNumber, header[i], fields[i]);
                    if (i == labelIndex) {
                        labels.add(v);
                    } else {
                        features.add((float) v);
                    }
                }
            }
            if (labels.isEmpty()) {
                throw new DatasetFormatException(file, "has a header but no data lines");
            }
            double[] labelArray = new double[labels.size()];
            for (int i = 0; i < labelArray.length; i++) {
                labelArray[i] = labels.get(i);
            }
            return new CsvFile(featureNames, header[labelIndex], features.toArray(), labelArray);
        }
    }

    private static int labelIndex(Path file, String[] header, Options options) throws DatasetFormatException {
        if (options.labelColumnName() != null) {
            for (int i = 0; i < header.length; i++) {
                if (header[i].equals(options.labelColumnName())) {
                    return i;
                }
            }
            throw new DatasetFormatException(file, "has no label column '" + options.labelColumnName()
                    + "'; the header has " + Arrays.toString(header));
        }
        int index = options.labelColumnIndex() < 0 ? header.length + options.labelColumnIndex() : options.labelColumnIndex();
        if (index < 0 || index >= header.length) {
            throw new DatasetFormatException(file, "label column " + options.labelColumnIndex()
                    + " is out of range for " + header.length + " columns");
        }
        if (header.length < 2) {
            throw new DatasetFormatException(file, "needs at least one feature column besides the label");
        }
        return index;
    }

    private static double parse(Path file, int line, String column, String text) throws DatasetFormatException {
        double v;
        try {
            v = Double.parseDouble(text.trim());
        } catch (NumberFormatException e) {
            throw new DatasetFormatException(file, "line " + line + ", column '" + column + "': '" + text + "' is not a number");
        }
        if (!Double.isFinite(v)) {
            throw new DatasetFormatException(file, "line " + line + ", column '" + column + "': " + text + " is not a finite number");
        }
        return v;
    }

    private static String nextNonEmpty(BufferedReader reader) throws IOException {
        String line;
        do {
            line = reader.readLine();
        } while (line != null && line.isBlank());
        return line;
    }

    private static String[] split(String line, char delimiter) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= line.length(); i++) {
            if (i == line.length() || line.charAt(i) == delimiter) {
                out.add(line.substring(start, i).trim());
                start = i + 1;
            }
        }
        return out.toArray(new String[0]);
    }

    public int rowCount() {
        return labels.length;
    }

    public String[] featureNames() {
        return featureNames.clone();
    }

    public String labelName() {
        return labelName;
    }

    /** Row-major {@code rowCount() x featureNames().length}. */
    public float[] features() {
        return features;
    }

    public double[] labels() {
        return labels;
    }

    /** A growable float array, to avoid boxing a million features. */
    private static final class FloatList {
        private float[] values = new float[1024];
        private int size;

        void add(float v) {
            if (size == values.length) {
                values = Arrays.copyOf(values, values.length * 2);
            }
            values[size++] = v;
        }

        float[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
