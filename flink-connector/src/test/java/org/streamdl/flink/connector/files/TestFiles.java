package org.streamdl.flink.connector.files;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX file pairs whose record i has label i % 10 and pixels (i + p) mod 256. */
final class TestFiles {
    private TestFiles() {}

    static Path[] idxPair(Path dir, int count, int rows, int columns, boolean gzip) throws IOException {
        Path images = dir.resolve("images-idx3-ubyte" + (gzip ? ".gz" : ""));
        Path labels = dir.resolve("labels-idx1-ubyte" + (gzip ? ".gz" : ""));
        try (DataOutputStream out = new DataOutputStream(open(images, gzip))) {
            out.writeInt(0x0803);
            out.writeInt(count);
            out.writeInt(rows);
            out.writeInt(columns);
            for (int i = 0; i < count; i++) {
                for (int p = 0; p < rows * columns; p++) {
                    out.writeByte(i + p);
                }
            }
        }
        try (DataOutputStream out = new DataOutputStream(open(labels, gzip))) {
            out.writeInt(0x0801);
            out.writeInt(count);
            for (int i = 0; i < count; i++) {
                out.writeByte(i % 10);
            }
        }
        return new Path[] {images, labels};
    }

    private static OutputStream open(Path p, boolean gzip) throws IOException {
        OutputStream out = Files.newOutputStream(p);
        return gzip ? new GZIPOutputStream(out) : out;
    }
}
