package org.streamdl.flink.training;

import org.apache.flink.api.dag.Transformation;
import org.apache.flink.streaming.api.datastream.DataStream;

/**
 * Places subtask i of several operators in the same slot, hence the same JVM, through
 * {@link Transformation#setCoLocationGroupKey}: internal Flink API, stable from 1.x to 2.x, and
 * the only one that lets the training loop's back edge be an in-JVM channel. Kept in this one class
 * so a change of that API touches one file.
 */
final class CoLocation {
    private CoLocation() {}

    static void group(String key, DataStream<?>... streams) {
        int parallelism = streams[0].getParallelism();
        for (DataStream<?> s : streams) {
            if (s.getParallelism() != parallelism) {
                throw new IllegalArgumentException("co-located operators need one parallelism but '"
                        + s.getTransformation().getName() + "' has " + s.getParallelism() + " and '"
                        + streams[0].getTransformation().getName() + "' has " + parallelism);
            }
            s.getTransformation().setCoLocationGroupKey(key);
        }
    }
}
