package org.streamdl.flink.sql;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Gauge;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.flink.sql.StreamDLModelOptions.InvalidRows;
import org.streamdl.flink.sql.StreamDLModelOptions.Precision;

/** The scoring core's metrics: what was scored, what was invalid, batch sizes and the model version. */
class ModelRunnerTest {
    @TempDir
    Path dir;

    /** A metric group that keeps what is registered on it, by name. */
    private static final class Metrics extends UnregisteredMetricsGroup {
        final Map<String, Object> registered = new HashMap<>();

        @Override
        public Counter counter(String name) {
            Counter c = super.counter(name);
            registered.put(name, c);
            return c;
        }

        @Override
        public <T, G extends Gauge<T>> G gauge(String name, G gauge) {
            registered.put(name, gauge);
            return gauge;
        }

        @Override
        public <H extends Histogram> H histogram(String name, H histogram) {
            registered.put(name, histogram);
            return histogram;
        }
    }

    @Test
    void countsPredictionsInvalidRowsAndBatchSizes() throws Exception {
        ResolvedSchema input = ResolvedSchema.of(Column.physical("x", DataTypes.ARRAY(DataTypes.FLOAT())));
        ResolvedSchema output = ResolvedSchema.of(Column.physical("label", DataTypes.INT()));
        ModelSpec spec = new ModelSpec("m", SqlModels.tabular(dir, false).toUri().toString(), Precision.FP32, null, 1, 1,
                8, 0, new long[] {4}, InvalidRows.NULL, InputLayout.of(input, "m", 4),
                OutputLayout.of(output, "m", OutputLayout.Outputs.LOGITS));
        Metrics metrics = new Metrics();
        try (ModelRunner runner = ModelRunner.open(spec, metrics)) {
            long now = System.currentTimeMillis();
            RowData good = GenericRowData.of(new GenericArrayData(new float[] {1, 2, 3, 4}));
            RowData bad = GenericRowData.of(new GenericArrayData(new float[] {1, 2}));
            RowData[] first = runner.score(List.of(runner.encode(good, now), runner.encode(bad, now), runner.encode(good, now)));
            runner.score(List.of(runner.encode(good, now)));
            assertTrue(first[1].isNullAt(0) && !first[0].isNullAt(0) && !first[2].isNullAt(0));
        }
        assertEquals(3, ((Counter) metrics.registered.get("predictions")).getCount());
        assertEquals(1, ((Counter) metrics.registered.get("invalidRows")).getCount());
        Histogram batchSizes = (Histogram) metrics.registered.get("batchSize");
        assertEquals(2, batchSizes.getCount());
        assertEquals(2, batchSizes.getStatistics().getMax());   // the valid rows of the first call went in one pass
        assertEquals(1, batchSizes.getStatistics().getMin());
        assertEquals(3, ((Histogram) metrics.registered.get("latencyMillis")).getCount());
        assertEquals(0L, ((Gauge<?>) metrics.registered.get("modelVersion")).getValue());
    }
}
