package org.streamdl.flink.sql;

import java.time.Duration;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ConfigOptions;

/**
 * The options of {@code CREATE MODEL ... WITH ('provider' = 'streamdl', ...)}. Every value is
 * checked when a statement using the model is planned ({@link StreamDLModelProviderFactory}).
 */
public final class StreamDLModelOptions {
    private StreamDLModelOptions() {}

    /** The precision the model runs in. */
    public enum Precision {
        /** As the file stores it (a file already quantized to int8 stays int8). */
        FP32,
        /** Linear layers in bfloat16 (needs a float model). */
        BF16,
        /** int8: a float model is quantized on the calibration images; an int8 file runs as it is. */
        INT8
    }

    /** What a row the model cannot take at runtime (NULL, NaN, wrong length) gets. */
    public enum InvalidRows {
        /** The job fails, naming the column and the problem. */
        FAIL,
        /** Every output column is NULL, and the {@code invalidRows} metric counts it. */
        NULL
    }

    public static final ConfigOption<String> PATH = ConfigOptions.key("path").stringType().noDefaultValue()
            .withDescription("The model: a StreamDL model file, or an ONNX file when the name ends in .onnx, on any "
                    + "file system Flink reaches (file://, hdfs://, s3://).");

    public static final ConfigOption<Precision> PRECISION = ConfigOptions.key("precision").enumType(Precision.class)
            .defaultValue(Precision.FP32)
            .withDescription("fp32, bf16 or int8. int8 of a float model needs 'calibration-path'; "
                    + "a file already quantized to int8 needs nothing.");

    public static final ConfigOption<String> CALIBRATION_PATH = ConfigOptions.key("calibration-path").stringType()
            .noDefaultValue()
            .withDescription("An IDX file of unsigned-byte images (as Fashion-MNIST ships them, .gz or not), scaled to "
                    + "[0, 1], on which a float model is calibrated for int8.");

    public static final ConfigOption<Integer> CALIBRATION_SAMPLES = ConfigOptions.key("calibration-samples").intType()
            .defaultValue(1024)
            .withDescription("How many images of 'calibration-path' calibrate int8 (the first ones).");

    public static final ConfigOption<Integer> THREADS = ConfigOptions.key("threads").intType().defaultValue(1)
            .withDescription("oneDNN threads per parallel instance.");

    public static final ConfigOption<Integer> MAX_BATCH_SIZE = ConfigOptions.key("max-batch-size").intType()
            .defaultValue(256)
            .withDescription("Async ML_PREDICT: the most rows in one forward pass; also bounded by the call's "
                    + "'max-concurrent-operations'.");

    public static final ConfigOption<Duration> MAX_BATCH_DELAY = ConfigOptions.key("max-batch-delay").durationType()
            .defaultValue(Duration.ofMillis(10))
            .withDescription("Async ML_PREDICT: the longest a row waits for its batch to fill; 0 scores what is "
                    + "pending as soon as the model is free.");

    public static final ConfigOption<String> FEATURE_SHAPE = ConfigOptions.key("feature-shape").stringType()
            .noDefaultValue()
            .withDescription("One row's features as the model takes them, comma-separated (1,28,28). "
                    + "Optional when the model starts with a Linear layer (its input width).");

    public static final ConfigOption<InvalidRows> INVALID_ROWS = ConfigOptions.key("invalid-rows")
            .enumType(InvalidRows.class).defaultValue(InvalidRows.FAIL)
            .withDescription("A row with NULL or NaN features or the wrong length: fail (the job fails) or null "
                    + "(NULL outputs, counted by the invalidRows metric).");
}
