package org.streamdl.flink.connector.files;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;

/** Hands splits to readers as they ask, so fast readers take more; then tells each there are no more. */
final class FileSplitEnumerator implements SplitEnumerator<FileSplit, List<FileSplit>> {
    private final SplitEnumeratorContext<FileSplit> context;
    private final ArrayDeque<FileSplit> remaining;

    FileSplitEnumerator(SplitEnumeratorContext<FileSplit> context, Collection<FileSplit> splits) {
        this.context = context;
        this.remaining = new ArrayDeque<>(splits);
    }

    @Override
    public void start() {}

    @Override
    public void handleSplitRequest(int subtask, String host) {
        FileSplit next = remaining.poll();
        if (next != null) {
            context.assignSplit(next, subtask);
        } else {
            context.signalNoMoreSplits(subtask);
        }
    }

    @Override
    public void addSplitsBack(List<FileSplit> splits, int subtask) {
        // A failed reader's unfinished splits (with their progress as of the last checkpoint) go out again.
        for (int i = splits.size() - 1; i >= 0; i--) {
            remaining.addFirst(splits.get(i));
        }
    }

    @Override
    public void addReader(int subtask) {}

    @Override
    public List<FileSplit> snapshotState(long checkpointId) {
        return new ArrayList<>(remaining);
    }

    @Override
    public void close() {}
}
