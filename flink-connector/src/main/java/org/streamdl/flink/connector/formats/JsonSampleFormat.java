package org.streamdl.flink.connector.formats;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.tensor.DType;

/**
 * Samples as JSON for records people type by hand:
 * <pre>{"features": [0.1, 0.5, ...], "label": 3}</pre>
 * or with named features, nested arrays for shape, and optional fields:
 * <pre>{"key": "tx-17", "features": {"amount": [12.5], "hist": [[1, 2], [3, 4]]}, "label": 1,
 *  "weight": 2.0, "eventTime": 1700000000000}</pre>
 * A feature takes the dtype its {@link SampleSpec} declares (float32 otherwise), and a flat array
 * whose length matches the declared shape's element count takes that shape. {@code "label"} is a
 * class index or an array (a target tensor). Unknown fields are refused, so a typo is not ignored.
 */
public final class JsonSampleFormat implements SampleFormat {
    private static final long serialVersionUID = 1L;
    private static final JsonFactory JSON = new JsonFactory();

    @Override
    public String name() {
        return "json";
    }

    @Override
    public Sample decode(RawRecord record, SampleSpec spec) throws RecordException {
        spec.checkRecordSize(record.payload().length);
        try (JsonParser p = JSON.createParser(record.payload())) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new RecordException("record: expected a JSON object, found " + describe(p.currentToken()));
            }
            Sample.Builder b = Sample.builder();
            boolean sawFeatures = false;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "key" -> b.key(value == JsonToken.VALUE_NULL ? null : p.getValueAsString());
                    case "features" -> {
                        sawFeatures = true;
                        readFeatures(p, value, spec, b);
                    }
                    case "label" -> readLabel(p, value, spec, b);
                    case "weight" -> {
                        float w = number(p, value, "weight").floatValue();
                        if (!(w >= 0) || Float.isInfinite(w)) {
                            throw new RecordException("weight: expected a finite value >= 0, found " + w);
                        }
                        b.weight(w);
                    }
                    case "eventTime" -> {
                        if (value != JsonToken.VALUE_NUMBER_INT) {
                            throw new RecordException("eventTime: expected milliseconds since the epoch as an integer, found "
                                    + describe(value));
                        }
                        b.eventTime(p.getLongValue());
                    }
                    default -> throw new RecordException(field + ": expected one of key, features, label, weight, eventTime, "
                            + "found an unknown field");
                }
            }
            if (p.currentToken() != JsonToken.END_OBJECT) {
                throw new RecordException("record: expected the end of the object, found " + describe(p.currentToken()));
            }
            if (p.nextToken() != null) {
                throw new RecordException("record: expected one JSON object, found more after it");
            }
            if (!sawFeatures) {
                throw new RecordException("features: expected an array or an object of arrays, found none");
            }
            return b.build();
        } catch (JsonProcessingException e) {
            throw new RecordException("record: not valid JSON at line " + e.getLocation().getLineNr() + " column "
                    + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new RecordException("record: cannot be read as JSON", e);
        }
    }

    private static void readFeatures(JsonParser p, JsonToken value, SampleSpec spec, Sample.Builder b)
            throws IOException, RecordException {
        if (value == JsonToken.START_ARRAY) {
            SampleSpec.FeatureSpec only = spec.singleFeature();
            String name = only != null ? only.name() : Sample.DEFAULT_FEATURE;
            b.feature(name, readTensor(p, "features", only == null ? null : only.dtype(), only == null ? null : only.shape()));
        } else if (value == JsonToken.START_OBJECT) {
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                if (p.nextToken() != JsonToken.START_ARRAY) {
                    throw new RecordException("features." + name + ": expected an array, found " + describe(p.currentToken()));
                }
                SampleSpec.FeatureSpec f = spec.feature(name);
                try {
                    b.feature(name, readTensor(p, "features." + name, f == null ? null : f.dtype(), f == null ? null : f.shape()));
                } catch (IllegalArgumentException e) {
                    throw new RecordException("features." + name + ": " + e.getMessage());
                }
            }
        } else {
            throw new RecordException("features: expected an array or an object of arrays, found " + describe(value));
        }
    }

    private static void readLabel(JsonParser p, JsonToken value, SampleSpec spec, Sample.Builder b)
            throws IOException, RecordException {
        if (value == JsonToken.VALUE_NULL) {
            return;
        }
        if (value == JsonToken.VALUE_NUMBER_INT) {
            long c = p.getLongValue();
            if (c < 0 || c > Integer.MAX_VALUE) {
                throw new RecordException("label: expected a class index >= 0, found " + c);
            }
            b.labelClass((int) c);
        } else if (value == JsonToken.START_ARRAY) {
            b.labelTensor(readTensor(p, "label", spec.labelDType(), spec.labelShape()));
        } else {
            throw new RecordException("label: expected a class index or an array, found " + describe(value));
        }
    }

    /** Reads a (nested) array whose opening bracket is the current token. */
    private static TensorValue readTensor(JsonParser p, String field, DType declared, long[] declaredShape)
            throws IOException, RecordException {
        DType dtype = declared == null ? DType.FLOAT32 : declared;
        NestedArray array = new NestedArray(field);
        array.read(p, 0);
        double[] values = array.values;
        long[] dims = array.shape();
        int n = array.count;
        if (declaredShape != null && !Arrays.equals(dims, declaredShape) && dims.length == 1
                && n == product(declaredShape)) {
            dims = declaredShape.clone(); // a flat array for a declared shape
        }
        byte[] bytes = new byte[n * dtype.byteSize()];
        ByteBuffer out = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            double v = values[i];
            switch (dtype) {
                case FLOAT32 -> out.putFloat((float) v);
                case INT32 -> out.putInt(integral(v, Integer.MIN_VALUE, Integer.MAX_VALUE, field, i));
                case INT8 -> out.put((byte) integral(v, -128, 127, field, i));
                case UINT8 -> out.put((byte) integral(v, 0, 255, field, i));
                default -> throw new RecordException(field + ": JSON input for dtype " + dtype + " is not supported; "
                        + "expected float32, int32, int8 or uint8");
            }
        }
        return AvroSampleFormat.tensor(dtype, dims, bytes, field);
    }

    /** Collects the numbers of a nested JSON array and checks that it is not ragged. */
    private static final class NestedArray {
        private final String field;
        private final long[] extents = filled(-1);
        private int rank;
        private double[] values = new double[64];
        private int count;
        private int leafDepth = -1;

        NestedArray(String field) {
            this.field = field;
        }

        /** Reads the array whose opening bracket is the current token, at nesting {@code depth}. */
        void read(JsonParser p, int depth) throws IOException, RecordException {
            if (depth >= 32) {
                throw new RecordException(field + ": expected at most 32 nested arrays, found more");
            }
            long length = 0;
            for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken(), length++) {
                if (t == JsonToken.START_ARRAY) {
                    if (leafDepth >= 0 && depth >= leafDepth) {
                        throw ragged();
                    }
                    read(p, depth + 1);
                } else if (t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT) {
                    if (leafDepth < 0) {
                        leafDepth = depth;
                    } else if (leafDepth != depth) {
                        throw ragged();
                    }
                    if (count == values.length) {
                        values = Arrays.copyOf(values, values.length * 2);
                    }
                    values[count++] = p.getDoubleValue();
                } else {
                    throw new RecordException(field + ": expected numbers or arrays, found " + describe(t)
                            + " at element " + count);
                }
            }
            if (extents[depth] < 0) {
                extents[depth] = length;
                rank = Math.max(rank, depth + 1);
            } else if (extents[depth] != length) {
                throw ragged();
            }
        }

        long[] shape() {
            return Arrays.copyOf(extents, rank);
        }

        private static long[] filled(long value) {
            long[] a = new long[32];
            Arrays.fill(a, value);
            return a;
        }

        private RecordException ragged() {
            return new RecordException(field + ": expected a rectangular (non-ragged) nested array, found rows of "
                    + "different lengths or depths");
        }
    }

    private static int integral(double v, long min, long max, String field, int index) throws RecordException {
        if (v != Math.rint(v) || v < min || v > max) {
            throw new RecordException(field + ": expected integers in [" + min + ", " + max + "], found " + v
                    + " at element " + index);
        }
        return (int) v;
    }

    private static long product(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static Number number(JsonParser p, JsonToken value, String field) throws IOException, RecordException {
        if (value != JsonToken.VALUE_NUMBER_INT && value != JsonToken.VALUE_NUMBER_FLOAT) {
            throw new RecordException(field + ": expected a number, found " + describe(value));
        }
        return p.getNumberValue();
    }

    private static String describe(JsonToken t) {
        if (t == null) {
            return "the end of the input";
        }
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> t.toString();
        };
    }
}
