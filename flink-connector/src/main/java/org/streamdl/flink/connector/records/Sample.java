package org.streamdl.flink.connector.records;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInfo;
import org.streamdl.flink.connector.serialization.StreamDLTypes;

/**
 * One training or scoring example: named feature tensors, an optional label (a class index or a
 * tensor), a weight, an optional key and an optional event time. Immutable.
 */
@TypeInfo(StreamDLTypes.SampleTypeInfoFactory.class)
public final class Sample {
    /** The feature name used when a record carries a single unnamed feature tensor. */
    public static final String DEFAULT_FEATURE = "input";
    /** {@link #labelClass()} of a sample without a class label. */
    public static final int NO_CLASS = -1;
    /** {@link #eventTime()} of a sample without an event time. */
    public static final long NO_TIME = Long.MIN_VALUE;

    private final String key;
    private final Map<String, TensorValue> features;
    private final int labelClass;
    private final TensorValue labelTensor;
    private final float weight;
    private final long eventTime;

    private Sample(Builder b) {
        this.key = b.key;
        this.features = Collections.unmodifiableMap(new LinkedHashMap<>(b.features));
        this.labelClass = b.labelClass;
        this.labelTensor = b.labelTensor;
        this.weight = b.weight;
        this.eventTime = b.eventTime;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A sample with one feature tensor named {@link #DEFAULT_FEATURE} and a class label. */
    public static Sample classified(TensorValue features, int labelClass) {
        return builder().feature(DEFAULT_FEATURE, features).labelClass(labelClass).build();
    }

    /** The key, or null. */
    public String key() {
        return key;
    }

    /** The features in the order they were added; unmodifiable. */
    public Map<String, TensorValue> features() {
        return features;
    }

    /** The feature called {@code name}; an exception naming the known features when there is none. */
    public TensorValue feature(String name) {
        TensorValue t = features.get(name);
        if (t == null) {
            throw new IllegalArgumentException("sample has no feature '" + name + "'; it has " + features.keySet());
        }
        return t;
    }

    /** The only feature (for single-input models). */
    public TensorValue singleFeature() {
        if (features.size() != 1) {
            throw new IllegalStateException("sample has " + features.size() + " features " + features.keySet()
                    + ", not exactly one");
        }
        return features.values().iterator().next();
    }

    public boolean hasClassLabel() {
        return labelClass != NO_CLASS;
    }

    /** The class index, or {@link #NO_CLASS}. */
    public int labelClass() {
        return labelClass;
    }

    /** The label tensor (regression or multi-label targets), or null. */
    public TensorValue labelTensor() {
        return labelTensor;
    }

    public boolean isLabelled() {
        return labelClass != NO_CLASS || labelTensor != null;
    }

    public float weight() {
        return weight;
    }

    /** Milliseconds since the epoch, or {@link #NO_TIME}. */
    public long eventTime() {
        return eventTime;
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.key = key;
        b.features.putAll(features);
        b.labelClass = labelClass;
        b.labelTensor = labelTensor;
        b.weight = weight;
        b.eventTime = eventTime;
        return b;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Sample s && Objects.equals(key, s.key) && features.equals(s.features)
                && labelClass == s.labelClass && Objects.equals(labelTensor, s.labelTensor)
                && Float.compare(weight, s.weight) == 0 && eventTime == s.eventTime;
    }

    @Override
    public int hashCode() {
        return Objects.hash(key, features, labelClass, labelTensor, weight, eventTime);
    }

    @Override
    public String toString() {
        return "Sample{key=" + key + ", features=" + features
                + (hasClassLabel() ? ", class=" + labelClass : "")
                + (labelTensor != null ? ", label=" + labelTensor : "")
                + (weight != 1f ? ", weight=" + weight : "")
                + (eventTime != NO_TIME ? ", eventTime=" + eventTime : "") + "}";
    }

    public static final class Builder {
        private String key;
        private final Map<String, TensorValue> features = new LinkedHashMap<>();
        private int labelClass = NO_CLASS;
        private TensorValue labelTensor;
        private float weight = 1f;
        private long eventTime = NO_TIME;

        private Builder() {}

        public Builder key(String key) {
            this.key = key;
            return this;
        }

        public Builder feature(String name, TensorValue value) {
            Objects.requireNonNull(name, "feature name");
            Objects.requireNonNull(value, "feature '" + name + "'");
            if (features.putIfAbsent(name, value) != null) {
                throw new IllegalArgumentException("feature '" + name + "' given twice");
            }
            return this;
        }

        public Builder labelClass(int labelClass) {
            if (labelClass < 0 && labelClass != NO_CLASS) {
                throw new IllegalArgumentException("label class must be >= 0 but is " + labelClass);
            }
            this.labelClass = labelClass;
            return this;
        }

        public Builder labelTensor(TensorValue labelTensor) {
            this.labelTensor = labelTensor;
            return this;
        }

        public Builder weight(float weight) {
            if (!(weight >= 0) || Float.isInfinite(weight)) {
                throw new IllegalArgumentException("weight must be finite and >= 0 but is " + weight);
            }
            this.weight = weight;
            return this;
        }

        public Builder eventTime(long eventTime) {
            this.eventTime = eventTime;
            return this;
        }

        public Sample build() {
            if (features.isEmpty()) {
                throw new IllegalArgumentException("a sample needs at least one feature tensor");
            }
            return new Sample(this);
        }
    }
}
