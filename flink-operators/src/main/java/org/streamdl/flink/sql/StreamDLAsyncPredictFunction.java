package org.streamdl.flink.sql;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;

/**
 * Asynchronous {@code ML_PREDICT} (the planner's default when a provider offers both): the rows
 * pending at the same time are scored in one forward pass. A batch is scored when it holds
 * {@code max-batch-size} rows (bounded by the operator's {@code max-concurrent-operations}, since
 * no more can be pending) or when its oldest row has waited {@code max-batch-delay}.
 *
 * <p>The model lives on one scoring thread per parallel instance, which loads it, scores every
 * batch and closes it (a model and its kernels are confined to one thread); the task thread only
 * encodes rows and queues them, so it reads the next rows while a batch runs. The scoring thread
 * is woken twice per batch at most: by a batch's first row (to time its delay) and by the row that
 * fills it.
 */
public final class StreamDLAsyncPredictFunction extends AsyncPredictFunction {
    private static final long serialVersionUID = 1L;

    private final ModelSpec spec;

    private transient Thread scorer;
    private transient ModelRunner runner;                     // encode() on the task thread, the rest on the scorer
    private transient ArrayDeque<Pending> pending;            // guarded by itself
    private transient boolean closing;                        // guarded by pending

    private record Pending(ModelRunner.Encoded row, CompletableFuture<Collection<RowData>> result) {}

    StreamDLAsyncPredictFunction(ModelSpec spec) {
        this.spec = spec;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        pending = new ArrayDeque<>();
        CompletableFuture<ModelRunner> opened = new CompletableFuture<>();
        MetricGroup metrics = context.getMetricGroup();
        scorer = new Thread(() -> run(metrics, opened), "streamdl-ml-predict " + spec.name());
        scorer.setDaemon(true);
        scorer.start();
        try {
            runner = opened.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    /** The scoring thread: opens the model, scores batches until close, closes the model. */
    private void run(MetricGroup metrics, CompletableFuture<ModelRunner> opened) {
        ModelRunner model;
        try {
            model = ModelRunner.open(spec, metrics);
        } catch (Throwable t) {
            opened.completeExceptionally(t);
            return;
        }
        opened.complete(model);
        try {
            for (List<Pending> batch = nextBatch(); batch != null; batch = nextBatch()) {
                score(model, batch);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            model.close();
        }
    }

    @Override
    public CompletableFuture<Collection<RowData>> asyncPredict(RowData row) {
        // encoded here: the row may be reused by the caller once this returns
        ModelRunner.Encoded encoded = runner.encode(row, System.currentTimeMillis());
        CompletableFuture<Collection<RowData>> result = new CompletableFuture<>();
        synchronized (pending) {
            pending.addLast(new Pending(encoded, result));
            if (pending.size() == 1 || pending.size() >= spec.maxBatchSize()) {
                pending.notifyAll();
            }
        }
        return result;
    }

    /**
     * Waits for a full batch or for the oldest pending row's delay to pass, and takes up to
     * max-batch-size rows, oldest first; null once the function closes.
     */
    private List<Pending> nextBatch() throws InterruptedException {
        synchronized (pending) {
            while (!closing) {
                if (pending.isEmpty()) {
                    pending.wait();
                    continue;
                }
                long wait = pending.peekFirst().row().arrivedAt() + spec.maxBatchDelayMillis() - System.currentTimeMillis();
                if (pending.size() >= spec.maxBatchSize() || wait <= 0) {
                    List<Pending> batch = new ArrayList<>(Math.min(pending.size(), spec.maxBatchSize()));
                    while (!pending.isEmpty() && batch.size() < spec.maxBatchSize()) {
                        batch.add(pending.pollFirst());
                    }
                    return batch;
                }
                pending.wait(wait);
            }
            return null;
        }
    }

    private static void score(ModelRunner model, List<Pending> batch) {
        List<ModelRunner.Encoded> rows = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            rows.add(p.row());
        }
        RowData[] out;
        try {
            out = model.score(rows);
        } catch (RuntimeException e) {
            for (Pending p : batch) {
                p.result().completeExceptionally(e);
            }
            return;
        }
        for (int i = 0; i < out.length; i++) {
            batch.get(i).result().complete(List.of(out[i]));
        }
    }

    /** Stops the scoring thread after the batch it is scoring; the operator has waited for every answer it needs. */
    @Override
    public void close() throws Exception {
        if (scorer == null) {
            return;
        }
        synchronized (pending) {
            closing = true;
            pending.notifyAll();
        }
        scorer.join(60_000);
    }
}
