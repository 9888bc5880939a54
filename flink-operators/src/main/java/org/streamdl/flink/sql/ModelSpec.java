package org.streamdl.flink.sql;

import java.io.Serializable;
import org.streamdl.flink.sql.StreamDLModelOptions.InvalidRows;
import org.streamdl.flink.sql.StreamDLModelOptions.Precision;

/**
 * Everything a predict function needs to open its model, checked when the statement was planned.
 * Flink ships table functions to the task managers as serialized objects, hence Serializable; it
 * holds only options and layouts, never a model.
 *
 * @param name the model's name in the catalog, for messages and metrics
 * @param featureShape one row's features as the model takes them, without the batch axis
 * @param maxBatchSize the most rows in one forward pass (async)
 * @param maxBatchDelayMillis the longest a row waits for its batch to fill (async)
 */
record ModelSpec(String name, String path, Precision precision, String calibrationPath, int calibrationSamples,
                 int threads, int maxBatchSize, long maxBatchDelayMillis, long[] featureShape, InvalidRows invalidRows,
                 InputLayout input, OutputLayout output) implements Serializable {

    static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** The same spec with another batch size (async: bounded by the operator's concurrent rows). */
    ModelSpec withMaxBatchSize(int size) {
        return new ModelSpec(name, path, precision, calibrationPath, calibrationSamples, threads, size, maxBatchDelayMillis,
                featureShape, invalidRows, input, output);
    }
}
