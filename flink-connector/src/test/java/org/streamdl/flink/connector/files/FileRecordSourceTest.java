package org.streamdl.flink.connector.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.eventtime.Watermark;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceEvent;
import org.apache.flink.api.connector.source.SourceOutput;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.io.InputStatus;
import org.apache.flink.metrics.groups.SourceReaderMetricGroup;
import org.apache.flink.metrics.groups.UnregisteredMetricsGroup;
import org.apache.flink.util.SimpleUserCodeClassLoader;
import org.apache.flink.util.UserCodeClassLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.flink.connector.records.RawRecord;

/** Split planning, file checks, and a reader restored from its checkpoint continuing exactly. */
class FileRecordSourceTest {
    @TempDir
    Path dir;

    @Test
    void idxSplitsCoverEveryRecordOnce() throws IOException {
        Path[] files = TestFiles.idxPair(dir, 1000, 2, 3, true);
        FileRecordSource source = FileRecordSource.idx(files[0].toString(), files[1].toString(), 300);
        assertEquals(1000, source.recordCount());
        assertEquals(4, source.splits().size());
        assertEquals(6, source.recordBytes());
        List<RawRecord> all = readAll(source.splits(), -1);
        assertEquals(1000, all.size());
        for (int i = 0; i < all.size(); i++) {
            byte[] p = all.get(i).payload();
            assertEquals(i % 10, p[0]);
            assertEquals((byte) (i + 5), p[6]);
            assertEquals(i, all.get(i).origin().position());
        }
    }

    @Test
    void aReaderRestoredFromItsCheckpointContinuesAtTheNextRecord() throws IOException {
        Path[] files = TestFiles.idxPair(dir, 700, 2, 2, true);
        Path csv = dir.resolve("data.csv");
        StringBuilder text = new StringBuilder("a,b,label\n");
        for (int i = 0; i < 700; i++) {
            text.append(i).append(',').append(i * 2).append(",1\n");
        }
        Files.writeString(csv, text);
        for (FileRecordSource source : List.of(
                FileRecordSource.idx(files[0].toString(), files[1].toString(), 250),
                FileRecordSource.csv(csv.toString(), true, 250))) {
            List<RawRecord> uninterrupted = readAll(source.splits(), -1);
            assertEquals(700, uninterrupted.size());
            List<RawRecord> resumed = readAll(source.splits(), 333);
            assertEquals(uninterrupted.size(), resumed.size());
            for (int i = 0; i < resumed.size(); i++) {
                assertEquals(uninterrupted.get(i), resumed.get(i), "record " + i);
            }
        }
    }

    /**
     * A gzip file cannot seek: a reader whose splits lie one after another in the file reads it in
     * one pass instead of decompressing it from the start for every split.
     */
    @Test
    void aReaderContinuesThroughSplitsInFileOrderWithoutReopening() throws IOException {
        Path[] files = TestFiles.idxPair(dir, 1000, 2, 3, true);
        FileRecordSource source = FileRecordSource.idx(files[0].toString(), files[1].toString(), 100);
        List<FileSplit> everyOther = new ArrayList<>();   // what one of two readers gets: splits 0, 2, 4, ...
        for (int i = 0; i < source.splits().size(); i += 2) {
            everyOther.add(source.splits().get(i));
        }
        FileSplitReader reader = new FileSplitReader(new FakeContext());
        List<RawRecord> out = drain(reader, everyOther);
        assertEquals(1, reader.idxStreamsOpened());
        assertEquals(500, out.size());
        for (int i = 0; i < out.size(); i++) {
            long position = (i / 100) * 200L + i % 100;
            assertEquals(position, out.get(i).origin().position());
            assertEquals((byte) (position + 5), out.get(i).payload()[6], "record " + position);
        }
        // a split behind the streams (a restored one, handed out again) reopens them and still reads right
        FileSplitReader again = new FileSplitReader(new FakeContext());
        List<RawRecord> backwards = drain(again, List.of(source.splits().get(3), source.splits().get(1)));
        assertEquals(2, again.idxStreamsOpened());
        assertEquals(300, backwards.get(0).origin().position());
        assertEquals(100, backwards.get(100).origin().position());
        assertEquals((byte) (100 + 5), backwards.get(100).payload()[6]);
    }

    private static List<RawRecord> drain(FileSplitReader reader, List<FileSplit> splits) throws IOException {
        List<RawRecord> out = new ArrayList<>();
        reader.start();
        reader.addSplits(splits);
        reader.notifyNoMoreSplits();
        Collecting output = new Collecting(out);
        while (reader.pollNext(output) != InputStatus.END_OF_INPUT) {
            // reads until the splits are done
        }
        reader.close();
        return out;
    }

    @Test
    void csvLinesKeepTheirLineNumbers() throws IOException {
        Path csv = dir.resolve("x.csv");
        Files.writeString(csv, "h1,h2\n1,2\n\n3,4\r\n5,6");
        FileRecordSource source = FileRecordSource.csv(csv.toString(), true, 2);
        List<RawRecord> records = readAll(source.splits(), -1);
        assertEquals(4, records.size());
        assertEquals(List.of(2L, 3L, 4L, 5L), records.stream().map(r -> r.origin().position()).toList());
        assertEquals(List.of("1,2", "", "3,4\r", "5,6"),
                records.stream().map(r -> new String(r.payload(), StandardCharsets.UTF_8)).toList());
    }

    @Test
    void malformedIdxFilesAreRefusedWithTheirPath() throws IOException {
        Path[] good = TestFiles.idxPair(dir, 50, 2, 2, false);
        String images = good[0].toString();
        String labels = good[1].toString();

        Path bad = dir.resolve("bad-magic");
        byte[] bytes = Files.readAllBytes(good[0]);
        bytes[3] = 0x01;
        Files.write(bad, bytes);
        String magic = assertThrows(IOException.class, () -> FileRecordSource.idx(bad.toString(), labels, 10)).getMessage();
        assertEquals(bad + ": bad magic 0x00000801; expected 0x00000803 (unsigned bytes, rank 3)", magic);

        Path truncated = dir.resolve("truncated");
        Files.write(truncated, java.util.Arrays.copyOf(Files.readAllBytes(good[0]), 100));
        String cut = assertThrows(IOException.class, () -> FileRecordSource.idx(truncated.toString(), labels, 10)).getMessage();
        assertEquals(truncated + ": truncated: its header promises 216 bytes but it holds 100", cut);

        Path[] other = TestFiles.idxPair(Files.createDirectory(dir.resolve("other")), 49, 2, 2, true);
        String counts = assertThrows(IOException.class, () -> FileRecordSource.idx(images, other[1].toString(), 10)).getMessage();
        assertEquals(images + " holds 50 images but " + other[1] + " holds 49 labels; the files do not belong together", counts);

        Path empty = Files.createFile(dir.resolve("empty"));
        String tiny = assertThrows(IOException.class, () -> FileRecordSource.idx(empty.toString(), labels, 10)).getMessage();
        assertTrue(tiny.startsWith(empty + ": truncated"), tiny);
    }

    /** Reads all splits in one reader; with {@code restartAfter >= 0}, checkpoints there and continues in a new reader. */
    private static List<RawRecord> readAll(List<FileSplit> splits, int restartAfter) throws IOException {
        List<RawRecord> out = new ArrayList<>();
        FakeContext context = new FakeContext();
        FileSplitReader reader = new FileSplitReader(context);
        reader.start();
        reader.addSplits(splits);
        reader.notifyNoMoreSplits();
        Collecting output = new Collecting(out);
        while (true) {
            InputStatus status = reader.pollNext(output);
            if (status == InputStatus.END_OF_INPUT) {
                break;
            }
            if (out.size() == restartAfter) {
                List<FileSplit> state = reader.snapshotState(1);
                reader.close();
                reader = new FileSplitReader(context);
                reader.start();
                reader.addSplits(state);
                reader.notifyNoMoreSplits();
                restartAfter = -1;
            }
        }
        reader.close();
        return out;
    }

    private static final class Collecting implements ReaderOutput<RawRecord> {
        private final List<RawRecord> out;

        Collecting(List<RawRecord> out) {
            this.out = out;
        }

        @Override public void collect(RawRecord record) { out.add(record); }
        @Override public void collect(RawRecord record, long timestamp) { out.add(record); }
        @Override public void emitWatermark(Watermark watermark) {}
        @Override public void markIdle() {}
        @Override public void markActive() {}
        @Override public SourceOutput<RawRecord> createOutputForSplit(String splitId) { throw new UnsupportedOperationException(); }
        @Override public void releaseOutputForSplit(String splitId) {}
    }

    private static final class FakeContext implements SourceReaderContext {
        final AtomicInteger requests = new AtomicInteger();

        @Override public SourceReaderMetricGroup metricGroup() { return UnregisteredMetricsGroup.createSourceReaderMetricGroup(); }
        @Override public Configuration getConfiguration() { return new Configuration(); }
        @Override public String getLocalHostName() { return "localhost"; }
        @Override public int getIndexOfSubtask() { return 0; }
        @Override public void sendSplitRequest() { requests.incrementAndGet(); }
        @Override public void sendSourceEventToCoordinator(SourceEvent event) {}
        @Override public UserCodeClassLoader getUserCodeClassLoader() {
            return SimpleUserCodeClassLoader.create(getClass().getClassLoader());
        }
    }
}
