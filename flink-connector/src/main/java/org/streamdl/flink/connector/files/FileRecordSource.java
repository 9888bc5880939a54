package org.streamdl.flink.connector.files;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.core.fs.Path;
import org.apache.flink.core.io.SimpleVersionedSerializer;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.serialization.StreamDLTypes;

/**
 * A bounded FLIP-27 source of the records of an IDX file pair or a CSV file, cut into splits of a
 * fixed number of records that parallel readers take on demand. The files are checked and the
 * splits planned when the source is built, so a malformed file fails the job before it starts,
 * with the file's path and what was wrong. Paths may be on any Flink file system.
 */
public final class FileRecordSource implements Source<RawRecord, FileSplit, List<FileSplit>>, ResultTypeQueryable<RawRecord> {
    private static final long serialVersionUID = 1L;
    /** Enough splits for parallel readers to balance, few enough that planning stays cheap. */
    public static final int DEFAULT_RECORDS_PER_SPLIT = 4096;

    // Kept in the splits' own binary form: the job graph carries this source, and splits are not Serializable.
    private final byte[] plannedSplits;
    private final long recordCount;
    private final int recordBytes;

    private FileRecordSource(List<FileSplit> splits, int recordBytes) throws IOException {
        this.plannedSplits = FileSplit.ListSerializer.INSTANCE.serialize(splits);
        this.recordCount = splits.stream().mapToLong(FileSplit::count).sum();
        this.recordBytes = recordBytes;
    }

    /** The records of an IDX image file and its label file: each a label byte then the image bytes. */
    public static FileRecordSource idx(String images, String labels, int recordsPerSplit) throws IOException {
        IdxFiles.Pair pair = IdxFiles.check(images, labels);
        List<FileSplit> splits = new ArrayList<>();
        for (long start = 0; start < pair.count(); start += recordsPerSplit) {
            long count = Math.min(recordsPerSplit, pair.count() - start);
            splits.add(new FileSplit("idx-" + start, FileSplit.Kind.IDX, images, labels, pair.recordBytes(), start, start, count));
        }
        return new FileRecordSource(splits, pair.recordBytes());
    }

    /**
     * The lines of a CSV file (after a header line if {@code skipHeader}), each a raw record whose
     * origin is the file and its 1-based line number. The file is read once now to find where the
     * splits begin.
     */
    public static FileRecordSource csv(String file, boolean skipHeader, int linesPerSplit) throws IOException {
        List<FileSplit> splits = new ArrayList<>();
        Path path = new Path(file);
        try (InputStream in = new BufferedInputStream(path.getFileSystem().open(path), 1 << 16)) {
            long offset = 0;
            long line = 1;
            long splitStart = -1;
            long splitLine = 0;
            long inSplit = 0;
            boolean atLineStart = true;
            boolean skipping = skipHeader;
            byte[] buffer = new byte[1 << 16];
            for (int r = in.read(buffer); r >= 0; r = in.read(buffer)) {
                for (int i = 0; i < r; i++, offset++) {
                    if (atLineStart && !skipping) {
                        if (splitStart < 0) {
                            splitStart = offset;
                            splitLine = line;
                        }
                        inSplit++;
                    }
                    atLineStart = false;
                    if (buffer[i] == '\n') {
                        line++;
                        atLineStart = true;
                        skipping = false;
                        if (inSplit == linesPerSplit) {
                            splits.add(csvSplit(file, splitStart, splitLine, inSplit));
                            splitStart = -1;
                            inSplit = 0;
                        }
                    }
                }
            }
            if (inSplit > 0) {
                splits.add(csvSplit(file, splitStart, splitLine, inSplit));
            }
        }
        return new FileRecordSource(splits, -1);
    }

    private static FileSplit csvSplit(String file, long start, long line, long count) {
        return new FileSplit("csv-" + line, FileSplit.Kind.CSV, file, null, 0, start, line, count);
    }

    /** The number of records all splits hold. */
    public long recordCount() {
        return recordCount;
    }

    /** For IDX sources, the bytes of one image; -1 for CSV. */
    public int recordBytes() {
        return recordBytes;
    }

    public List<FileSplit> splits() {
        try {
            return FileSplit.ListSerializer.INSTANCE.deserialize(1, plannedSplits);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Override
    public Boundedness getBoundedness() {
        return Boundedness.BOUNDED;
    }

    @Override
    public SplitEnumerator<FileSplit, List<FileSplit>> createEnumerator(SplitEnumeratorContext<FileSplit> context) {
        return new FileSplitEnumerator(context, splits());
    }

    @Override
    public SplitEnumerator<FileSplit, List<FileSplit>> restoreEnumerator(SplitEnumeratorContext<FileSplit> context,
                                                                          List<FileSplit> checkpoint) {
        return new FileSplitEnumerator(context, checkpoint);
    }

    @Override
    public SimpleVersionedSerializer<FileSplit> getSplitSerializer() {
        return FileSplit.Serializer.INSTANCE;
    }

    @Override
    public SimpleVersionedSerializer<List<FileSplit>> getEnumeratorCheckpointSerializer() {
        return FileSplit.ListSerializer.INSTANCE;
    }

    @Override
    public SourceReader<RawRecord, FileSplit> createReader(SourceReaderContext context) {
        return new FileSplitReader(context);
    }

    @Override
    public TypeInformation<RawRecord> getProducedType() {
        return StreamDLTypes.RAW_RECORD;
    }
}
