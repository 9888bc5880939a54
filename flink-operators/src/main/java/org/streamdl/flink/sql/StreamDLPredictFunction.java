package org.streamdl.flink.sql;

import java.util.Collection;
import java.util.List;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.functions.PredictFunction;

/**
 * Synchronous {@code ML_PREDICT} ({@code MAP['async', 'false']}): each row is scored as it comes,
 * one forward pass of batch 1, on the task thread. The async function is faster wherever rows
 * arrive faster than one pass takes; this one adds no thread and no waiting.
 */
public final class StreamDLPredictFunction extends PredictFunction {
    private static final long serialVersionUID = 1L;

    private final ModelSpec spec;
    private transient ModelRunner runner;

    StreamDLPredictFunction(ModelSpec spec) {
        this.spec = spec;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        runner = ModelRunner.open(spec, context.getMetricGroup());
    }

    @Override
    public Collection<RowData> predict(RowData row) {
        return List.of(runner.score(List.of(runner.encode(row, System.currentTimeMillis())))[0]);
    }

    @Override
    public void close() throws Exception {
        if (runner != null) {
            runner.close();
        }
    }
}
