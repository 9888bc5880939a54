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
    private IdxCursor idx;        // IDX streams left open after a split, for the next split further on
    private int idxStreamsOpened;

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
            current = open(next);
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

    /**
     * Opens a split. An IDX split continues the streams of the previous one when it lies further
     * on in the same files: a gzip stream cannot seek, so reopening meant decompressing the file
     * from its start up to each split again (8 times the file for Fashion-MNIST's 15 splits).
     */
    private OpenSplit open(FileSplit split) throws IOException {
        if (split.kind() == FileSplit.Kind.CSV) {
            return OpenSplit.csv(split);
        }
        if (idx == null || !idx.canReach(split)) {
            if (idx != null) {
                idx.close();
            }
            idx = IdxCursor.open(split);
            idxStreamsOpened++;
        }
        idx.skipTo(split.start());
        return OpenSplit.idx(split, idx);
    }

    /** How many times IDX streams were opened: once per run of splits in file order. */
    int idxStreamsOpened() {
        return idxStreamsOpened;
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
        if (idx != null) {
            idx.close();
            idx = null;
        }
    }

    /** The open streams of an IDX file pair and the record they are at. */
    private static final class IdxCursor {
        private final String images;
        private final String labelsPath;
        private final int recordBytes;
        private final InputStream data;
        private final DataInputStream labels;
        private long next;

        private IdxCursor(FileSplit split, InputStream data, DataInputStream labels) {
            this.images = split.path();
            this.labelsPath = split.labelsPath();
            this.recordBytes = split.recordBytes();
            this.data = data;
            this.labels = labels;
            this.next = split.start();
        }

        static IdxCursor open(FileSplit split) throws IOException {
            InputStream data = IdxFiles.openAt(split.path(), IdxFiles.imagesHeaderBytes(), split.start() * split.recordBytes());
            try {
                return new IdxCursor(split, data, new DataInputStream(
                        IdxFiles.openAt(split.labelsPath(), IdxFiles.labelsHeaderBytes(), split.start())));
            } catch (IOException | RuntimeException e) {
                data.close();
                throw e;
            }
        }

        boolean canReach(FileSplit split) {
            return split.path().equals(images) && split.labelsPath().equals(labelsPath) && split.recordBytes() == recordBytes
                    && split.start() >= next;
        }

        void skipTo(long record) throws IOException {
            IdxFiles.skip(data, (record - next) * recordBytes, images);
            IdxFiles.skip(labels, record - next, labelsPath);
            next = record;
        }

        void read(byte[] payload) throws IOException {
            payload[0] = labels.readByte();
            OpenSplit.readFully(data, payload, 1, recordBytes);
            next++;
        }

        void close() throws IOException {
            try {
                data.close();
            } finally {
                labels.close();
            }
        }
    }

    /** A split being read: its streams and how many of its records have been emitted. */
    private static final class OpenSplit {
        private final FileSplit split;
        private final InputStream data;     // CSV
        private final IdxCursor idx;        // IDX, owned by the reader
        private long emitted;
        private long bytesRead;

        private OpenSplit(FileSplit split, InputStream data, IdxCursor idx) {
            this.split = split;
            this.data = data;
            this.idx = idx;
        }

        static OpenSplit csv(FileSplit split) throws IOException {
            FSDataInputStream in = new Path(split.path()).getFileSystem().open(new Path(split.path()));
            in.seek(split.start());
            return new OpenSplit(split, new BufferedInputStream(in, 1 << 16), null);
        }

        static OpenSplit idx(FileSplit split, IdxCursor cursor) {
            return new OpenSplit(split, null, cursor);
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
                idx.read(payload);
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

        /** Closes a CSV split's stream; an IDX split's streams stay with the reader for the next split. */
        void close() throws IOException {
            if (data != null) {
                data.close();
            }
        }

        static void readFully(InputStream in, byte[] b, int off, int len) throws IOException {
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
