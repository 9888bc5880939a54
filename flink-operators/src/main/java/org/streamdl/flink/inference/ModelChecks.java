package org.streamdl.flink.inference;

import java.io.IOException;
import java.util.Arrays;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.streamdl.dnn.model.Model;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * Reading a model file from a Flink file system and checking that a model fits the samples it is
 * given, for every scorer ({@link Predictor}, the SQL model provider) so they refuse the same
 * things with the same words.
 */
public final class ModelChecks {
    private ModelChecks() {}

    /** The bytes of the file at {@code path}, on any file system Flink reaches. */
    public static byte[] readFile(String path) throws IOException {
        Path p = new Path(path);
        try (var in = FileSystem.get(p.toUri()).open(p)) {
            return in.readAllBytes();
        }
    }

    /**
     * Checks that {@code model} takes one sample of {@code featureShape} and answers float32
     * (1, k), and returns k; a model and feature shape that do not fit are refused with {@code what}
     * named.
     *
     * @throws IllegalArgumentException when they do not fit
     */
    public static int outputWidth(Model model, long[] featureShape, String what) {
        try (Allocator step = model.allocator().newChild("check")) {
            Tensor y;
            try {
                y = model.predict(step.allocate(DType.FLOAT32, Shape.of(featureShape).withBatch(1)), step);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(what + " does not take samples of shape "
                        + Arrays.toString(featureShape) + ": " + e.getMessage(), e);
            }
            if (y.rank() != 2 || y.shape().dim(0) != 1 || y.dtype() != DType.FLOAT32) {
                throw new IllegalArgumentException(what + " answers " + y.dtype() + " " + y.shape()
                        + " for one sample; a predictor needs float32 (1, outputs)");
            }
            return (int) y.shape().dim(1);
        }
    }
}
