package org.streamdl.flink.connector.files;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;
import org.apache.flink.core.fs.Path;

/**
 * The headers of an IDX image/label file pair (gzip-compressed or not), checked before a job
 * runs: magic numbers, element type, rank, matching counts, and that each file really holds the
 * bytes its header promises. Errors name the file and what was wrong.
 */
final class IdxFiles {
    private static final int UNSIGNED_BYTE = 0x08;

    private IdxFiles() {}

    /** What a valid pair holds. */
    record Pair(long count, int rows, int columns) {
        int recordBytes() {
            return rows * columns;
        }
    }

    static int imagesHeaderBytes() {
        return 16;
    }

    static int labelsHeaderBytes() {
        return 8;
    }

    static Pair check(String images, String labels) throws IOException {
        long[] imageDims = header(images, 3);
        long[] labelDims = header(labels, 1);
        if (imageDims[0] != labelDims[0]) {
            throw new IOException(images + " holds " + imageDims[0] + " images but " + labels + " holds "
                    + labelDims[0] + " labels; the files do not belong together");
        }
        if (imageDims[1] * imageDims[2] > Integer.MAX_VALUE / 2) {
            throw new IOException(images + ": images of " + imageDims[1] + "x" + imageDims[2] + " are too large");
        }
        Pair pair = new Pair(imageDims[0], (int) imageDims[1], (int) imageDims[2]);
        checkLength(images, imagesHeaderBytes() + pair.count() * pair.recordBytes());
        checkLength(labels, labelsHeaderBytes() + pair.count());
        return pair;
    }

    private static long[] header(String file, int rank) throws IOException {
        try (DataInputStream in = new DataInputStream(open(file))) {
            int magic;
            try {
                magic = in.readInt();
            } catch (EOFException e) {
                throw new IOException(file + ": truncated: shorter than an IDX header", e);
            }
            int expected = UNSIGNED_BYTE << 8 | rank;
            if (magic != expected) {
                throw new IOException(String.format("%s: bad magic 0x%08X; expected 0x%08X (unsigned bytes, rank %d)",
                        file, magic, expected, rank));
            }
            long[] dims = new long[rank];
            for (int i = 0; i < rank; i++) {
                try {
                    dims[i] = Integer.toUnsignedLong(in.readInt());
                } catch (EOFException e) {
                    throw new IOException(file + ": truncated inside its header", e);
                }
                if (dims[i] > Integer.MAX_VALUE) {
                    throw new IOException(file + ": dimension " + i + " claims " + dims[i] + " entries");
                }
            }
            return dims;
        }
    }

    private static void checkLength(String file, long expected) throws IOException {
        long actual = 0;
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = open(file)) {
            for (int r = in.read(buffer); r >= 0; r = in.read(buffer)) {
                actual += r;
                if (actual > expected) {
                    break;
                }
            }
        } catch (EOFException e) {
            throw new IOException(file + ": truncated: its compressed stream ends early after " + actual + " bytes", e);
        }
        if (actual != expected) {
            throw new IOException(file + ": " + (actual < expected ? "truncated" : "has trailing data") + ": its header "
                    + "promises " + expected + " bytes but it holds " + (actual > expected ? "more" : actual));
        }
    }

    /** The file's content (decompressed when it starts with the gzip magic). */
    static InputStream open(String file) throws IOException {
        Path path = new Path(file);
        InputStream raw = new BufferedInputStream(path.getFileSystem().open(path), 1 << 16);
        raw.mark(2);
        int b0 = raw.read();
        int b1 = raw.read();
        raw.reset();
        return b0 == 0x1f && b1 == 0x8b ? new BufferedInputStream(new GZIPInputStream(raw, 1 << 16), 1 << 16) : raw;
    }

    /** The content from {@code header + offset} on. */
    static InputStream openAt(String file, int header, long offset) throws IOException {
        InputStream in = open(file);
        try {
            skip(in, header + offset, file);
        } catch (IOException e) {
            in.close();
            throw e;
        }
        return in;
    }

    /** Skips exactly {@code bytes} of {@code in}, a stream of {@code file}. */
    static void skip(InputStream in, long bytes, String file) throws IOException {
        long toSkip = bytes;
        while (toSkip > 0) {
            long skipped = in.skip(toSkip);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new IOException(file + " ended " + toSkip + " bytes before the position a split starts at");
                }
                skipped = 1;
            }
            toSkip -= skipped;
        }
    }
}
