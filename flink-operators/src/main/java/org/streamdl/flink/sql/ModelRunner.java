package org.streamdl.flink.sql;

import java.util.List;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.table.data.RowData;
import org.streamdl.dnn.model.Model;
import org.streamdl.flink.sql.StreamDLModelOptions.InvalidRows;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/**
 * One parallel instance's model: scores batches of encoded rows with one forward pass each and
 * keeps the metrics the DataStream {@code Predictor} keeps ({@code predictions},
 * {@code predictionsPerSecond}, {@code invalidRows}, {@code modelVersion}, histograms
 * {@code batchSize} and {@code latencyMillis}). Confined to one thread, like the model.
 */
final class ModelRunner implements AutoCloseable {
    /** A row's features, or why it has none; {@code arrivedAt} in milliseconds. */
    record Encoded(float[] features, String problem, long arrivedAt) {}

    private final ModelSpec spec;
    private final Model model;
    private final long version;
    private final int width;
    private final Counter predictions;
    private final Counter invalidRows;
    private final Histogram batchSizes;
    private final Histogram latencyMillis;

    private ModelRunner(ModelSpec spec, ModelLoader.Loaded loaded, MetricGroup metrics) {
        this.spec = spec;
        this.model = loaded.model();
        this.version = loaded.version();
        this.width = org.streamdl.flink.inference.ModelChecks.outputWidth(model, spec.featureShape(), "model " + spec.name());
        predictions = metrics.counter("predictions");
        invalidRows = metrics.counter("invalidRows");
        metrics.meter("predictionsPerSecond", new MeterView(predictions));
        batchSizes = metrics.histogram("batchSize", new DescriptiveStatisticsHistogram(1000));
        latencyMillis = metrics.histogram("latencyMillis", new DescriptiveStatisticsHistogram(1000));
        metrics.gauge("modelVersion", () -> version);
    }

    /** Loads the model of {@code spec}; on the thread that will score with it. */
    static ModelRunner open(ModelSpec spec, MetricGroup metrics) {
        ModelLoader.Loaded loaded = ModelLoader.load(spec);
        try {
            return new ModelRunner(spec, loaded, metrics);
        } catch (RuntimeException e) {
            loaded.model().close();
            throw e;
        }
    }

    /** {@code row}'s features, read by the INPUT layout; never throws for a bad row. */
    Encoded encode(RowData row, long now) {
        float[] features = new float[spec.input().featureCount()];
        String problem = spec.input().read(row, features, 0);
        return new Encoded(problem == null ? features : null, problem, now);
    }

    /**
     * The output rows of {@code rows}, in order, from one forward pass over the valid ones. A row
     * that could not be encoded gets NULL outputs, or fails the call, as 'invalid-rows' says.
     *
     * @throws IllegalArgumentException for an invalid row under 'invalid-rows' = 'fail'
     */
    RowData[] score(List<Encoded> rows) {
        int valid = 0;
        for (Encoded e : rows) {
            if (e.features() != null) {
                valid++;
            } else if (spec.invalidRows() == InvalidRows.FAIL) {
                throw new IllegalArgumentException("ML_PREDICT with model " + spec.name() + ": " + e.problem()
                        + " (set the model option 'invalid-rows' = 'null' to answer such rows with NULL)");
            }
        }
        RowData[] out = new RowData[rows.size()];
        float[] outputs = valid == 0 ? new float[0] : forward(rows, valid);
        long done = System.currentTimeMillis();
        int k = 0;
        for (int i = 0; i < out.length; i++) {
            Encoded e = rows.get(i);
            if (e.features() == null) {
                invalidRows.inc();
                out[i] = spec.output().nulls();
            } else {
                out[i] = spec.output().write(outputs, k++ * width, width, version);
                latencyMillis.update(done - e.arrivedAt());
            }
        }
        if (valid > 0) {
            batchSizes.update(valid);
            predictions.inc(valid);
        }
        return out;
    }

    private float[] forward(List<Encoded> rows, int valid) {
        int features = spec.input().featureCount();
        float[] batch = new float[valid * features];
        int k = 0;
        for (Encoded e : rows) {
            if (e.features() != null) {
                System.arraycopy(e.features(), 0, batch, k++ * features, features);
            }
        }
        try (Allocator step = model.allocator().newChild("predict")) {
            Tensor x = Convert.fromFloats(batch, Shape.of(spec.featureShape()).withBatch(valid), step);
            Tensor y = model.predict(x, step);   // padded to one of a few batch sizes, whose plans stay cached
            if (y.dtype() != DType.FLOAT32) {
                y = Convert.to(y, DType.FLOAT32, step);
            }
            return Convert.toFloatArray(y);
        }
    }

    @Override
    public void close() {
        model.close();
    }
}
