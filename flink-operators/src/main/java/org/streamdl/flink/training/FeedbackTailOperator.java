package org.streamdl.flink.training;

import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * The end of the training loop in subtask i: hands every broadcast weight slice to worker i through
 * the JVM-local {@link FeedbackChannel}, and before forwarding a checkpoint barrier puts that
 * checkpoint's marker in the channel, so the worker knows when the back edge has delivered every
 * slice sent before the shards' snapshots (Chandy–Lamport for the back edge).
 */
final class FeedbackTailOperator extends AbstractStreamOperator<Void> implements OneInputStreamOperator<WeightSlice, Void> {
    private static final long serialVersionUID = 1L;

    private final String loopId;
    private transient FeedbackChannel channel;

    FeedbackTailOperator(String loopId) {
        this.loopId = loopId;
    }

    @Override
    public void open() throws Exception {
        super.open();
        channel = FeedbackChannel.of(loopId, getRuntimeContext().getTaskInfo().getIndexOfThisSubtask(),
                getRuntimeContext().getTaskInfo().getAttemptNumber());
    }

    @Override
    public void close() throws Exception {
        if (channel != null) {
            channel.close();
        }
        super.close();
    }

    @Override
    public void processElement(StreamRecord<WeightSlice> element) {
        channel.put(FeedbackChannel.Item.slice(element.getValue()));
    }

    @Override
    public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
        super.prepareSnapshotPreBarrier(checkpointId);
        channel.put(FeedbackChannel.Item.marker(checkpointId));
    }
}
