package org.streamdl.flink.connector.files;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.core.fs.FSDataInputStream;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.io.InputStatus;
import org.streamdl.flink.connector.records.Origin;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.records.Sample;

/**
 * Reads the records of its splits one at a time on the task thread. Its checkpoint is the current
 * split advanced past what was emitted plus the splits not yet started, so a restore continues at
 * the next record: none lost, none read twice.
 */
final class FileSplitReader implements SourceReader<RawRecord, FileSplit> {
    private final SourceReaderContext context;
    private final ArrayDeque<FileSplit> pending = new ArrayDeque<>();
    private CompletableFuture<Void> available = new CompletableFuture<>();
    private boolean noMoreSplits;
    private boolean requested;
    private OpenSplit current;

    FileSplitReader(SourceReaderContext context) {
        this.context = context;
    }

    @Override
    public void start() {
        requestSplit();
    }

    @Override
    public InputStatus pollNext(ReaderOutput<RawRecord> output) throws IOException {
        if (current == null) {
            FileSplit next = pending.poll();
            if (next == null) {
                if (noMoreSplits) {
                    return InputStatus.END_OF_INPUT;
                }
                requestSplit();
                if (available.isDone()) {
                    available = new CompletableFuture<>();
                }
                return InputStatus.NOTHING_AVAILABLE;
            }
            current = OpenSplit.open(next);
        }
        RawRecord record = current.next();
        if (record != null) {
            output.collect(record);
        }
        if (current.finished()) {
            current.close();
            current = null;
            if (pending.isEmpty() && !noMoreSplits) {
                requestSplit();
            }
        }
        return InputStatus.MORE_AVAILABLE;
    }

    private void requestSplit() {
        if (!requested && !noMoreSplits) {
            requested = true;
            context.sendSplitRequest();
        }
    }

    @Override
    public List<FileSplit> snapshotState(long checkpointId) {
        List<FileSplit> state = new ArrayList<>();
        if (current != null && !current.finished()) {
            state.add(current.progress());
        }
        state.addAll(pending);
        return state;
    }

    @Override
    public CompletableFuture<Void> isAvailable() {
        return available;
    }

    @Override
    public void addSplits(List<FileSplit> splits) {
        requested = false;
        pending.addAll(splits);
        available.complete(null);
    }

    @Override
    public void notifyNoMoreSplits() {
        noMoreSplits = true;
        available.complete(null);
    }

    @Override
    public void close() throws IOException {
        if (current != null) {
            current.close();
        }
    }

    /** A split being read: its streams and how many of its records have been emitted. */
    private static final class OpenSplit {
        private final FileSplit split;
        private final InputStream data;
        private final DataInputStream labels;
        private long emitted;
        private long bytesRead;

        private OpenSplit(FileSplit split, InputStream data, DataInputStream labels) {
            this.split = split;
            this.data = data;
            this.labels = labels;
        }

        static OpenSplit open(FileSplit split) throws IOException {
            if (split.kind() == FileSplit.Kind.CSV) {
                FSDataInputStream in = new Path(split.path()).getFileSystem().open(new Path(split.path()));
                in.seek(split.start());
                return new OpenSplit(split, new BufferedInputStream(in, 1 << 16), null);
            }
            InputStream images = IdxFiles.openAt(split.path(), IdxFiles.imagesHeaderBytes(),
                    split.start() * split.recordBytes());
            InputStream labelStream = IdxFiles.openAt(split.labelsPath(), IdxFiles.labelsHeaderBytes(), split.start());
            return new OpenSplit(split, images, new DataInputStream(labelStream));
        }

        boolean finished() {
            return emitted == split.count();
        }

        RawRecord next() throws IOException {
            long position = split.firstPosition() + emitted;
            byte[] payload = split.kind() == FileSplit.Kind.CSV ? readLine() : readIdxRecord();
            emitted++;
            return new RawRecord(payload, Origin.file(split.path(), position), Sample.NO_TIME);
        }

        private byte[] readIdxRecord() throws IOException {
            byte[] payload = new byte[split.recordBytes() + 1];
            try {
                payload[0] = labels.readByte();
                readFully(data, payload, 1, split.recordBytes());
            } catch (EOFException e) {
                throw new IOException(split.path() + " ended at record " + (split.firstPosition() + emitted)
                        + " although its header promised more (was it changed while the job ran?)", e);
            }
            return payload;
        }

        private byte[] readLine() throws IOException {
            byte[] line = new byte[128];
            int n = 0;
            for (int b = data.read(); b != '\n' && b != -1; b = data.read()) {
                bytesRead++;
                if (n == line.length) {
                    line = Arrays.copyOf(line, n * 2);
                }
                line[n++] = (byte) b;
            }
            bytesRead++; // the newline (or end of file)
            return Arrays.copyOf(line, n);
        }

        FileSplit progress() {
            return split.advance(emitted, split.start() + bytesRead);
        }

        void close() throws IOException {
            data.close();
            if (labels != null) {
                labels.close();
            }
        }

        private static void readFully(InputStream in, byte[] b, int off, int len) throws IOException {
            while (len > 0) {
                int r = in.read(b, off, len);
                if (r < 0) {
                    throw new EOFException();
                }
                off += r;
                len -= r;
            }
        }
    }
}
