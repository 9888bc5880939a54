package org.streamdl.flink.connector.formats;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.tensor.DType;

/**
 * What a job accepts as a sample: each feature's name, dtype and shape, the kind of label, and a
 * size limit. {@link #validate} refuses anything else with a reason that names the field, what was
 * expected and what was found. Float features must be finite unless {@link Builder#allowNonFinite}.
 */
public final class SampleSpec implements Serializable {
    private static final long serialVersionUID = 1L;

    /** What the label must be. */
    public enum LabelKind {
        /** A class index in [0, classes). */
        CLASS,
        /** A tensor of {@link #labelShape()}. */
        TENSOR,
        /** No label (scoring input); a label that is present is still checked. */
        OPTIONAL_CLASS,
        NONE
    }

    private final LinkedHashMap<String, FeatureSpec> features;
    private final LabelKind labelKind;
    private final int classes;
    private final DType labelDType;
    private final long[] labelShape;
    private final int maxRecordBytes;
    private final boolean allowNonFinite;

    /** One expected feature tensor. */
    public record FeatureSpec(String name, DType dtype, long[] shape) implements Serializable {
        public long elementCount() {
            long n = 1;
            for (long d : shape) {
                n *= d;
            }
            return n;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof FeatureSpec f && name.equals(f.name) && dtype == f.dtype && Arrays.equals(shape, f.shape);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * name.hashCode() + dtype.hashCode()) + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return name + ": " + dtype + Arrays.toString(shape);
        }
    }

    private SampleSpec(Builder b) {
        this.features = new LinkedHashMap<>(b.features);
        this.labelKind = b.labelKind;
        this.classes = b.classes;
        this.labelDType = b.labelDType;
        this.labelShape = b.labelShape;
        this.maxRecordBytes = b.maxRecordBytes;
        this.allowNonFinite = b.allowNonFinite;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Fashion-MNIST: one float32 feature {@code input} of shape [1, 28, 28] and 10 classes. */
    public static SampleSpec fashionMnist() {
        return builder().feature(Sample.DEFAULT_FEATURE, DType.FLOAT32, 1, 28, 28).classLabel(10).build();
    }

    public Map<String, FeatureSpec> features() {
        return java.util.Collections.unmodifiableMap(features);
    }

    public FeatureSpec feature(String name) {
        return features.get(name);
    }

    /** The single feature of single-input specs; null otherwise. */
    public FeatureSpec singleFeature() {
        return features.size() == 1 ? features.values().iterator().next() : null;
    }

    public LabelKind labelKind() {
        return labelKind;
    }

    public int classes() {
        return classes;
    }

    public DType labelDType() {
        return labelDType;
    }

    public long[] labelShape() {
        return labelShape == null ? null : labelShape.clone();
    }

    /** Records longer than this many bytes are refused before they are decoded. */
    public int maxRecordBytes() {
        return maxRecordBytes;
    }

    /** Refuses a record of {@code length} bytes over the limit. */
    public void checkRecordSize(int length) throws RecordException {
        if (length > maxRecordBytes) {
            throw new RecordException("record: expected at most " + maxRecordBytes + " bytes, found " + length);
        }
        if (length == 0) {
            throw new RecordException("record: expected a sample, found an empty record");
        }
    }

    /** Checks a decoded sample against this spec; the message names the field. */
    public void validate(Sample s) throws RecordException {
        for (FeatureSpec f : features.values()) {
            TensorValue t = s.features().get(f.name);
            if (t == null) {
                throw new RecordException("features." + f.name + ": expected " + f.dtype + Arrays.toString(f.shape)
                        + ", found no such feature (record has " + s.features().keySet() + ")");
            }
            checkTensor("features." + f.name, t, f.dtype, f.shape);
        }
        if (s.features().size() != features.size()) {
            for (String name : s.features().keySet()) {
                if (!features.containsKey(name)) {
                    throw new RecordException("features." + name + ": expected only " + features.keySet()
                            + ", found an unknown feature");
                }
            }
        }
        switch (labelKind) {
            case CLASS, OPTIONAL_CLASS -> {
                if (!s.hasClassLabel() && labelKind == LabelKind.CLASS) {
                    throw new RecordException("label: expected a class index in [0, " + classes + "), found none");
                }
                if (s.hasClassLabel() && s.labelClass() >= classes) {
                    throw new RecordException("label: expected a class index in [0, " + classes + "), found "
                            + s.labelClass());
                }
                if (s.labelTensor() != null) {
                    throw new RecordException("label: expected a class index, found a tensor " + s.labelTensor());
                }
            }
            case TENSOR -> {
                if (s.labelTensor() == null) {
                    throw new RecordException("label: expected a tensor " + labelDType + Arrays.toString(labelShape)
                            + ", found " + (s.hasClassLabel() ? "class " + s.labelClass() : "none"));
                }
                checkTensor("label", s.labelTensor(), labelDType, labelShape);
            }
            case NONE -> {
                if (s.isLabelled()) {
                    throw new RecordException("label: expected none, found one");
                }
            }
        }
    }

    private void checkTensor(String field, TensorValue t, DType dtype, long[] shape) throws RecordException {
        if (t.dtype() != dtype) {
            throw new RecordException(field + ": expected dtype " + dtype + ", found " + t.dtype());
        }
        long[] found = t.shape();
        if (!Arrays.equals(found, shape)) {
            throw new RecordException(field + ": expected shape " + Arrays.toString(shape) + ", found "
                    + Arrays.toString(found));
        }
        if (!allowNonFinite && dtype == DType.FLOAT32) {
            int bad = firstNonFiniteFloat(t.bytes());
            if (bad >= 0) {
                float v = ByteBuffer.wrap(t.bytes()).order(ByteOrder.LITTLE_ENDIAN).getFloat(bad * 4);
                throw new RecordException(field + ": expected finite values, found " + v + " at element " + bad);
            }
        }
    }

    /** The first element whose exponent bits are all ones (NaN or infinity), or -1. */
    static int firstNonFiniteFloat(byte[] littleEndian) {
        // Byte 3 of each element holds the sign and 7 exponent bits, byte 2 the eighth: test them directly.
        for (int i = 3, e = 0; i < littleEndian.length; i += 4, e++) {
            if ((littleEndian[i] & 0x7f) == 0x7f && (littleEndian[i - 1] & 0x80) != 0) {
                return e;
            }
        }
        return -1;
    }

    @Override
    public String toString() {
        return "SampleSpec{features=" + features.values() + ", label=" + labelKind
                + (labelKind == LabelKind.CLASS || labelKind == LabelKind.OPTIONAL_CLASS ? "(" + classes + ")" : "")
                + (labelKind == LabelKind.TENSOR ? labelDType + Arrays.toString(labelShape) : "") + "}";
    }

    public static final class Builder {
        private final LinkedHashMap<String, FeatureSpec> features = new LinkedHashMap<>();
        private LabelKind labelKind = LabelKind.NONE;
        private int classes;
        private DType labelDType;
        private long[] labelShape;
        private int maxRecordBytes = 64 << 20;
        private boolean allowNonFinite;

        private Builder() {}

        public Builder feature(String name, DType dtype, long... shape) {
            for (long d : shape) {
                if (d <= 0) {
                    throw new IllegalArgumentException("feature '" + name + "': extents must be > 0 but shape is "
                            + Arrays.toString(shape));
                }
            }
            if (features.putIfAbsent(name, new FeatureSpec(name, dtype, shape.clone())) != null) {
                throw new IllegalArgumentException("feature '" + name + "' declared twice");
            }
            return this;
        }

        /** Samples must carry a class index in [0, classes). */
        public Builder classLabel(int classes) {
            return classes(LabelKind.CLASS, classes);
        }

        /** Samples may carry a class index in [0, classes); scoring inputs usually do not. */
        public Builder optionalClassLabel(int classes) {
            return classes(LabelKind.OPTIONAL_CLASS, classes);
        }

        private Builder classes(LabelKind kind, int classes) {
            if (classes < 1) {
                throw new IllegalArgumentException("classes must be >= 1 but is " + classes);
            }
            this.labelKind = kind;
            this.classes = classes;
            return this;
        }

        public Builder tensorLabel(DType dtype, long... shape) {
            this.labelKind = LabelKind.TENSOR;
            this.labelDType = dtype;
            this.labelShape = shape.clone();
            return this;
        }

        public Builder unlabelled() {
            this.labelKind = LabelKind.NONE;
            return this;
        }

        public Builder maxRecordBytes(int maxRecordBytes) {
            if (maxRecordBytes < 1) {
                throw new IllegalArgumentException("maxRecordBytes must be >= 1 but is " + maxRecordBytes);
            }
            this.maxRecordBytes = maxRecordBytes;
            return this;
        }

        /** Lets NaN and infinite float values through (off by default). */
        public Builder allowNonFinite(boolean allow) {
            this.allowNonFinite = allow;
            return this;
        }

        public SampleSpec build() {
            if (features.isEmpty()) {
                throw new IllegalArgumentException("a sample spec needs at least one feature");
            }
            return new SampleSpec(this);
        }
    }
}
