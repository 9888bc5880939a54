package org.streamdl.flink.sql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.FunctionContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.flink.sql.StreamDLModelOptions.InvalidRows;
import org.streamdl.flink.sql.StreamDLModelOptions.Precision;

/**
 * The async function's batching: rows pending together are scored as soon as a batch is full, a
 * partial batch when its oldest row has waited the delay, and every answer equals the sync
 * function's for the same row.
 */
class StreamDLAsyncPredictFunctionTest {
    @TempDir
    Path dir;

    private ModelSpec spec(int maxBatchSize, long delayMillis, InvalidRows invalidRows) throws Exception {
        Path model = SqlModels.tabular(dir, false);
        ResolvedSchema input = ResolvedSchema.of(Column.physical("features", DataTypes.ARRAY(DataTypes.FLOAT())));
        ResolvedSchema output = ResolvedSchema.of(Column.physical("label", DataTypes.INT()),
                Column.physical("logits", DataTypes.ARRAY(DataTypes.FLOAT())));
        return new ModelSpec("tabular", model.toUri().toString(), Precision.FP32, null, 1, 1, maxBatchSize, delayMillis,
                new long[] {4}, invalidRows, InputLayout.of(input, "tabular", 4),
                OutputLayout.of(output, "tabular", OutputLayout.Outputs.LOGITS));
    }

    private static RowData row(int i) {
        return GenericRowData.of(new GenericArrayData(new float[] {i, -i / 2f, 1f / (i + 1), 0.5f}));
    }

    private static float[] logits(Collection<RowData> answer) {
        return answer.iterator().next().getArray(1).toFloatArray();
    }

    @Test
    void fullBatchesAreScoredAtOnceAndAPartialOneWaitsForTheDelay() throws Exception {
        ModelSpec spec = spec(4, 60_000, InvalidRows.FAIL);
        StreamDLAsyncPredictFunction async = new StreamDLAsyncPredictFunction(spec);
        StreamDLPredictFunction sync = new StreamDLPredictFunction(spec);
        async.open(new FunctionContext(null));
        sync.open(new FunctionContext(null));
        try {
            List<CompletableFuture<Collection<RowData>>> answers = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                answers.add(async.asyncPredict(row(i)));
            }
            for (int i = 0; i < 8; i++) {   // two full batches of 4
                Collection<RowData> got = answers.get(i).get(30, TimeUnit.SECONDS);
                Collection<RowData> want = sync.predict(row(i));
                assertEquals(want.iterator().next().getInt(0), got.iterator().next().getInt(0), "row " + i);
                assertArrayEquals(logits(want), logits(got), 1e-5f, "row " + i);
            }
            // the last two wait for two more rows or the one-minute delay
            assertFalse(answers.get(8).isDone() || answers.get(9).isDone());
        } finally {
            async.close();
            sync.close();
        }
    }

    @Test
    void thePartialBatchIsScoredOnceItsOldestRowHasWaitedTheDelay() throws Exception {
        StreamDLAsyncPredictFunction async = new StreamDLAsyncPredictFunction(spec(100, 20, InvalidRows.FAIL));
        async.open(new FunctionContext(null));
        try {
            List<CompletableFuture<Collection<RowData>>> answers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                answers.add(async.asyncPredict(row(i)));
            }
            for (CompletableFuture<Collection<RowData>> a : answers) {
                assertEquals(1, a.get(30, TimeUnit.SECONDS).size());
            }
        } finally {
            async.close();
        }
    }

    @Test
    void anInvalidRowGetsNullsOrFailsItsBatchAsConfigured() throws Exception {
        RowData tooShort = GenericRowData.of(new GenericArrayData(new float[] {1, 2, 3}));
        RowData nan = GenericRowData.of(new GenericArrayData(new float[] {1, Float.NaN, 3, 4}));
        StreamDLAsyncPredictFunction lenient = new StreamDLAsyncPredictFunction(spec(3, 60_000, InvalidRows.NULL));
        lenient.open(new FunctionContext(null));
        try {
            CompletableFuture<Collection<RowData>> a = lenient.asyncPredict(tooShort);
            CompletableFuture<Collection<RowData>> b = lenient.asyncPredict(row(1));
            CompletableFuture<Collection<RowData>> c = lenient.asyncPredict(nan);
            RowData first = a.get(30, TimeUnit.SECONDS).iterator().next();
            assertTrue(first.isNullAt(0) && first.isNullAt(1));
            assertFalse(b.get(30, TimeUnit.SECONDS).iterator().next().isNullAt(0));
            assertTrue(c.get(30, TimeUnit.SECONDS).iterator().next().isNullAt(0));
        } finally {
            lenient.close();
        }
        StreamDLAsyncPredictFunction strict = new StreamDLAsyncPredictFunction(spec(1, 60_000, InvalidRows.FAIL));
        strict.open(new FunctionContext(null));
        try {
            ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> strict.asyncPredict(tooShort).get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("column 'features' has 3 values, expected 4"), e.getMessage());
            e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> strict.asyncPredict(nan).get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("column 'features' element 1 is NaN"), e.getMessage());
            RowData nullElement = GenericRowData.of(new GenericArrayData(new Float[] {1f, null, 3f, 4f}));
            e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> strict.asyncPredict(nullElement).get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("column 'features' has NULL at element 1"), e.getMessage());
            RowData nullArray = GenericRowData.of((Object) null);
            e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                    () -> strict.asyncPredict(nullArray).get(30, TimeUnit.SECONDS));
            assertTrue(e.getCause().getMessage().contains("column 'features' is NULL"), e.getMessage());
        } finally {
            strict.close();
        }
    }
}
