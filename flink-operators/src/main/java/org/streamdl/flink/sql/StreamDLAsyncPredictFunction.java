package org.streamdl.flink.sql;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.AsyncPredictFunction;
import org.apache.flink.table.functions.FunctionContext;

/**
 * Asynchronous {@code ML_PREDICT} (the planner's default when a provider offers both): the rows
 * pending at the same time are scored in one forward pass. A batch is scored when it holds
 * {@code max-batch-size} rows (bounded by the operator's {@code max-concurrent-operations}, since
 * no more can be pending) or when its oldest row has waited {@code max-batch-delay}.
 *
 * <p>The model lives on one scoring thread per parallel instance (a model and its kernels are
 * confined to one thread); the task thread only encodes rows and queues them, so it reads the next
 * rows while a batch runs.
 */
public final class StreamDLAsyncPredictFunction extends AsyncPredictFunction {
    private static final long serialVersionUID = 1L;

    private final ModelSpec spec;

    private transient ScheduledExecutorService scorer;
    private transient ModelRunner runner;                     // used on the scoring thread only
    private transient List<Pending> pending;                  // guarded by itself
    private transient boolean delayScheduled;                 // guarded by pending

    private record Pending(ModelRunner.Encoded row, CompletableFuture<Collection<RowData>> result) {}

    StreamDLAsyncPredictFunction(ModelSpec spec) {
        this.spec = spec;
    }

    @Override
    public void open(FunctionContext context) throws Exception {
        pending = new ArrayList<>();
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "streamdl-ml-predict " + spec.name());
            t.setDaemon(true);
            return t;
        });
        // the operator waits for every answer before it closes; rows still pending at close were cancelled
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        scorer = executor;
        try {
            runner = scorer.submit(() -> ModelRunner.open(spec, context.getMetricGroup())).get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    @Override
    public CompletableFuture<Collection<RowData>> asyncPredict(RowData row) {
        // encoded here: the row may be reused by the caller once this returns
        ModelRunner.Encoded encoded = runner.encode(row, System.currentTimeMillis());
        CompletableFuture<Collection<RowData>> result = new CompletableFuture<>();
        synchronized (pending) {
            pending.add(new Pending(encoded, result));
            if (pending.size() >= spec.maxBatchSize() || spec.maxBatchDelayMillis() == 0) {
                scorer.execute(this::scoreFull);
            } else if (!delayScheduled) {
                delayScheduled = true;
                scorer.schedule(this::scoreDue, spec.maxBatchDelayMillis(), TimeUnit.MILLISECONDS);
            }
        }
        return result;
    }

    /** Scores batches while a full one (or, with no delay, any row) is pending. */
    private void scoreFull() {
        while (true) {
            List<Pending> batch = take(spec.maxBatchDelayMillis() == 0 ? 1 : spec.maxBatchSize());
            if (batch == null) {
                return;
            }
            score(batch);
        }
    }

    /** The delay of the oldest row has passed (or the batch it was set for left full): score what is due. */
    private void scoreDue() {
        long oldest;
        synchronized (pending) {
            delayScheduled = false;
            if (pending.isEmpty()) {
                return;
            }
            oldest = pending.get(0).row().arrivedAt();
        }
        long wait = oldest + spec.maxBatchDelayMillis() - System.currentTimeMillis();
        if (wait <= 0) {
            List<Pending> batch = take(1);
            if (batch != null) {
                score(batch);
            }
        }
        synchronized (pending) {
            if (!pending.isEmpty() && !delayScheduled) {
                delayScheduled = true;
                long due = pending.get(0).row().arrivedAt() + spec.maxBatchDelayMillis() - System.currentTimeMillis();
                scorer.schedule(this::scoreDue, Math.max(0, due), TimeUnit.MILLISECONDS);
            }
        }
    }

    /** Up to max-batch-size pending rows, oldest first, when at least {@code atLeast} are pending; else null. */
    private List<Pending> take(int atLeast) {
        synchronized (pending) {
            if (pending.size() < atLeast || pending.isEmpty()) {
                return null;
            }
            int n = Math.min(pending.size(), spec.maxBatchSize());
            List<Pending> batch = new ArrayList<>(pending.subList(0, n));
            pending.subList(0, n).clear();
            return batch;
        }
    }

    private void score(List<Pending> batch) {
        List<ModelRunner.Encoded> rows = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            rows.add(p.row());
        }
        RowData[] out;
        try {
            out = runner.score(rows);
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

    @Override
    public void close() throws Exception {
        if (scorer == null) {
            return;
        }
        scorer.shutdown();   // a batch being scored finishes; the model closes once the scoring thread is done
        if (runner != null) {
            try {
                scorer.awaitTermination(1, TimeUnit.MINUTES);
            } finally {
                runner.close();
            }
        }
    }
}
