package org.streamdl.flink.connector.records;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInfo;
import org.streamdl.flink.connector.serialization.StreamDLTypes;

/**
 * A model's answer for one sample: the key of the sample, the model's named outputs, for
 * classifiers the predicted class and its score, the model version that answered, and three
 * timestamps (ms since the epoch) from which latency is measured: the sample's event time, when
 * the scoring operator received it and when the answer was ready.
 */
@TypeInfo(StreamDLTypes.PredictionTypeInfoFactory.class)
public record Prediction(String key, Map<String, TensorValue> outputs, int predictedClass, float score,
                         long modelVersion, long eventTime, long receivedAt, long predictedAt) {
    public Prediction {
        Objects.requireNonNull(outputs, "outputs");
        outputs = Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
    }

    /** Milliseconds from receipt to answer. */
    public long latencyMillis() {
        return predictedAt - receivedAt;
    }

    public boolean isClassification() {
        return predictedClass != Sample.NO_CLASS;
    }
}
