package org.streamdl.flink.sql;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.ReadableConfig;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.api.config.ExecutionConfigOptions;
import org.apache.flink.table.api.config.MLPredictRuntimeConfigOptions;
import org.apache.flink.table.catalog.ResolvedCatalogModel;
import org.apache.flink.table.factories.FactoryUtil;
import org.apache.flink.table.factories.ModelProviderFactory;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.PredictFunction;
import org.apache.flink.table.ml.AsyncPredictRuntimeProvider;
import org.apache.flink.table.ml.ModelProvider;
import org.apache.flink.table.ml.PredictRuntimeProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.layers.LayerConfig;
import org.streamdl.dnn.layers.Sequential;
import org.streamdl.dnn.model.Model;
import org.streamdl.flink.inference.ModelChecks;
import org.streamdl.flink.sql.StreamDLModelOptions.InvalidRows;
import org.streamdl.flink.sql.StreamDLModelOptions.Precision;

/**
 * The {@code streamdl} model provider: {@code CREATE MODEL m INPUT (...) OUTPUT (...) WITH
 * ('provider' = 'streamdl', 'path' = '...')} makes {@code ML_PREDICT(TABLE t, MODEL m,
 * DESCRIPTOR(...))} score rows inside the task with a StreamDL or ONNX model, batched, in float32,
 * bfloat16 or int8 ({@link StreamDLModelOptions}).
 *
 * <p>Everything is checked when a statement using the model is planned: unknown, missing and bad
 * options, a model file that does not read or does not take the feature shape, input columns of
 * a type the model cannot take, output columns it cannot fill. Each is refused with a
 * {@link ValidationException} naming the option or column and what would be accepted.
 */
public final class StreamDLModelProviderFactory implements ModelProviderFactory {
    public static final String IDENTIFIER = "streamdl";

    private static final Logger LOG = LoggerFactory.getLogger(StreamDLModelProviderFactory.class);

    @Override
    public String factoryIdentifier() {
        return IDENTIFIER;
    }

    @Override
    public Set<ConfigOption<?>> requiredOptions() {
        return Set.of(StreamDLModelOptions.PATH);
    }

    @Override
    public Set<ConfigOption<?>> optionalOptions() {
        return Set.of(StreamDLModelOptions.PRECISION, StreamDLModelOptions.CALIBRATION_PATH,
                StreamDLModelOptions.CALIBRATION_SAMPLES, StreamDLModelOptions.THREADS, StreamDLModelOptions.MAX_BATCH_SIZE,
                StreamDLModelOptions.MAX_BATCH_DELAY, StreamDLModelOptions.FEATURE_SHAPE, StreamDLModelOptions.INVALID_ROWS);
    }

    @Override
    public ModelProvider createModelProvider(Context context) {
        FactoryUtil.ModelProviderFactoryHelper helper = FactoryUtil.createModelProviderFactoryHelper(this, context);
        helper.validate();   // unknown and missing options and values of the wrong type, by name and with what is accepted
        ReadableConfig options = helper.getOptions();
        ResolvedCatalogModel catalogModel = context.getCatalogModel();
        String name = context.getObjectIdentifier().asSummaryString();

        String path = options.get(StreamDLModelOptions.PATH);
        Precision precision = options.get(StreamDLModelOptions.PRECISION);   // values the helper has parsed
        InvalidRows invalidRows = options.get(StreamDLModelOptions.INVALID_ROWS);
        int threads = atLeast(options, StreamDLModelOptions.THREADS, 1);
        int maxBatchSize = atLeast(options, StreamDLModelOptions.MAX_BATCH_SIZE, 1);
        int calibrationSamples = atLeast(options, StreamDLModelOptions.CALIBRATION_SAMPLES, 1);
        Duration delay = options.get(StreamDLModelOptions.MAX_BATCH_DELAY);
        if (delay.isNegative()) {
            throw new ValidationException("model " + name + ": option 'max-batch-delay' is " + delay + "; it must be >= 0");
        }
        String calibrationPath = options.getOptional(StreamDLModelOptions.CALIBRATION_PATH).orElse(null);
        if (calibrationPath != null && precision != Precision.INT8) {
            throw new ValidationException("model " + name + ": option 'calibration-path' calibrates int8, but 'precision' is "
                    + precision.name().toLowerCase(Locale.ROOT) + "; set 'precision' = 'int8' or drop 'calibration-path'");
        }

        long[] featureShape;
        OutputLayout.Outputs outputs;
        try (Model stored = ModelLoader.read(path, Kernels.create(1)).model()) {
            featureShape = options.getOptional(StreamDLModelOptions.FEATURE_SHAPE).map(s -> parseShape(name, s))
                    .orElseGet(() -> ModelLoader.featureShapeOf(stored));
            if (featureShape == null) {
                throw new ValidationException("model " + name + ": option 'feature-shape' is needed: the model in " + path
                        + " does not start with a Linear layer, so one row's shape is not known; give it as '1,28,28'");
            }
            try {
                ModelChecks.outputWidth(stored, featureShape, "the model in " + path);
            } catch (IllegalArgumentException e) {
                throw new ValidationException("model " + name + ": option 'feature-shape' " + Arrays.toString(featureShape)
                        + " does not fit: " + e.getMessage(), e);
            }
            outputs = outputsOf(stored);
        } catch (java.io.IOException e) {
            throw new ValidationException("model " + name + ": option 'path': model file " + path + " cannot be read: "
                    + e.getMessage(), e);
        }
        int featureCount = (int) ModelSpec.elementCount(featureShape);
        InputLayout input = InputLayout.of(catalogModel.getResolvedInputSchema(), name, featureCount);
        OutputLayout output = OutputLayout.of(catalogModel.getResolvedOutputSchema(), name, outputs);
        ModelSpec spec = new ModelSpec(name, path, precision, calibrationPath, calibrationSamples, threads, maxBatchSize,
                delay.toMillis(), featureShape, invalidRows, input, output);
        try (Model converted = ModelLoader.load(spec).model()) {   // precision: calibration, int8 or bf16 conversion
            ModelChecks.outputWidth(converted, featureShape, "the model in " + path);
        } catch (IllegalArgumentException e) {
            throw new ValidationException("model " + name + ": " + e.getMessage(), e);
        }
        int concurrent = context.getConfiguration().get(ExecutionConfigOptions.TABLE_EXEC_ASYNC_ML_PREDICT_MAX_CONCURRENT_OPERATIONS);
        return new Provider(spec, concurrent);
    }

    /** Both functions: the planner takes the async one unless the call says {@code MAP['async', 'false']}. */
    private record Provider(ModelSpec spec, int tableMaxConcurrent) implements PredictRuntimeProvider, AsyncPredictRuntimeProvider {
        @Override
        public PredictFunction createPredictFunction(ModelProvider.Context context) {
            return new StreamDLPredictFunction(spec);
        }

        @Override
        public AsyncPredictFunction createAsyncPredictFunction(ModelProvider.Context context) {
            int concurrent = context.runtimeConfig().getOptional(MLPredictRuntimeConfigOptions.ASYNC_MAX_CONCURRENT_OPERATIONS)
                    .orElse(tableMaxConcurrent);
            if (concurrent < spec.maxBatchSize()) {
                LOG.info("model {}: batches of at most {} rows, the rows ML_PREDICT keeps in flight ('max-concurrent-operations'),"
                        + " not 'max-batch-size' {}; raise 'max-concurrent-operations' for bigger batches",
                        spec.name(), concurrent, spec.maxBatchSize());
                return new StreamDLAsyncPredictFunction(spec.withMaxBatchSize(concurrent));
            }
            return new StreamDLAsyncPredictFunction(spec);
        }

        @Override
        public ModelProvider copy() {
            return new Provider(spec, tableMaxConcurrent);
        }
    }

    /** What the network's last layer gives: its logits, unless it ends in Softmax or LogSoftmax. */
    private static OutputLayout.Outputs outputsOf(Model model) {
        List<LayerConfig> children = model.network().config().children();
        String last = model.network() instanceof Sequential s && !s.layers().isEmpty()
                ? s.layers().get(s.layers().size() - 1).config().type()
                : children.isEmpty() ? "" : children.get(children.size() - 1).type();
        return switch (last) {
            case "Softmax" -> OutputLayout.Outputs.PROBABILITIES;
            case "LogSoftmax" -> OutputLayout.Outputs.LOG_PROBABILITIES;
            default -> OutputLayout.Outputs.LOGITS;
        };
    }

    private static int atLeast(ReadableConfig options, ConfigOption<Integer> option, int min) {
        int value = options.get(option);
        if (value < min) {
            throw new ValidationException("option '" + option.key() + "' is " + value + "; it must be >= " + min);
        }
        return value;
    }

    static long[] parseShape(String model, String text) {
        String[] parts = text.split(",");
        long[] shape = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                shape[i] = Long.parseLong(parts[i].trim());
            } catch (NumberFormatException e) {
                shape[i] = -1;
            }
            if (shape[i] < 1) {
                throw new ValidationException("model " + model + ": option 'feature-shape' is '" + text
                        + "'; it takes extents >= 1 separated by commas, such as '1,28,28'");
            }
        }
        return shape;
    }
}
