package org.streamdl.flink.training;

import java.util.ArrayDeque;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.apache.flink.api.common.operators.MailboxExecutor;

/**
 * The in-JVM back edge of the training loop: the {@link FeedbackTailOperator} of subtask i puts
 * weight slices and checkpoint markers in, and the {@link TrainingWorkerOperator} of subtask i
 * receives them as mails on its own mailbox, so all worker code runs on its task thread. Both
 * operators are co-located ({@link CoLocation}), which is what makes a JVM-local channel possible.
 *
 * <p>Items put before the worker has registered wait in the channel and are delivered, in order,
 * when it does. Channels are looked up by loop, subtask and attempt, so a restarted attempt never
 * sees items of the failed one.
 */
final class FeedbackChannel {
    /** What travels on the back edge: either a weight slice or the marker of a checkpoint. */
    record Item(WeightSlice slice, long checkpointMarker) {
        static Item slice(WeightSlice slice) {
            return new Item(Objects.requireNonNull(slice), -1);
        }

        static Item marker(long checkpointId) {
            return new Item(null, checkpointId);
        }

        boolean isMarker() {
            return slice == null;
        }
    }

    record Key(String loopId, int subtask, int attempt) {}

    private static final Map<Key, FeedbackChannel> CHANNELS = new ConcurrentHashMap<>();

    private final Key key;
    private final ArrayDeque<Item> early = new ArrayDeque<>();
    private MailboxExecutor mailbox;
    private Consumer<Item> consumer;

    private FeedbackChannel(Key key) {
        this.key = key;
    }

    static FeedbackChannel of(String loopId, int subtask, int attempt) {
        return CHANNELS.computeIfAbsent(new Key(loopId, subtask, attempt), FeedbackChannel::new);
    }

    /** Called by the worker on its task thread; delivers what arrived before. */
    synchronized void register(MailboxExecutor workerMailbox, Consumer<Item> workerConsumer) {
        if (consumer != null) {
            throw new IllegalStateException("feedback channel " + key + " already has a worker");
        }
        this.mailbox = workerMailbox;
        this.consumer = workerConsumer;
        while (!early.isEmpty()) {
            Item item = early.poll();
            mailbox.execute(() -> workerConsumer.accept(item), "feedback");
        }
    }

    /** Called by the tail on its own task thread. */
    synchronized void put(Item item) {
        if (consumer == null) {
            early.add(item);
        } else {
            Consumer<Item> c = consumer;
            try {
                mailbox.execute(() -> c.accept(item), "feedback");
            } catch (java.util.concurrent.RejectedExecutionException workerGone) {
                // the worker has closed (finished or failed): nothing is left to train with this item
            }
        }
    }

    /** Both ends close the channel when they close; items put after the worker closed are dropped with it. */
    void close() {
        CHANNELS.remove(key, this);
    }

}
