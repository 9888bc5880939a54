package org.streamdl.dnn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxFileTest {
    @TempDir
    Path dir;

    private static byte[] idx(int type, int[] dims, int dataBytes) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.write(new byte[] {0, 0, (byte) type, (byte) dims.length});
        for (int d : dims) {
            out.writeInt(d);
        }
        for (int i = 0; i < dataBytes; i++) {
            out.writeByte(i * 7);
        }
        return bytes.toByteArray();
    }

    private Path write(String name, byte[] content, boolean gzip) throws IOException {
        Path f = dir.resolve(name);
        try (OutputStream out = gzip ? new GZIPOutputStream(Files.newOutputStream(f)) : Files.newOutputStream(f)) {
            out.write(content);
        }
        return f;
    }

    @Test
    void readsGzippedImages() throws IOException {
        Path f = write("images-idx3-ubyte.gz", idx(0x08, new int[] {2, 3, 4}, 24), true);
        IdxFile file = IdxFile.read(f);
        assertArrayEquals(new int[] {2, 3, 4}, file.dims());
        assertEquals(24, file.data().length);
        assertEquals((byte) (23 * 7), file.data()[23]);
    }

    @Test
    void readsUncompressedLabels() throws IOException {
        IdxFile file = IdxFile.read(write("labels-idx1-ubyte", idx(0x08, new int[] {5}, 5), false));
        assertArrayEquals(new byte[] {0, 7, 14, 21, 28}, file.data());
    }

    @Test
    void refusesBadMagicNamingTheFile() throws IOException {
        byte[] content = idx(0x08, new int[] {1}, 1);
        content[0] = 0x1f;
        Path f = write("bad.idx", content, false);
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> IdxFile.read(f));
        assertEquals(f + ": bad magic 0x1f000801: an IDX file starts with two zero bytes", e.getMessage());
    }

    @Test
    void refusesUnsupportedElementType() throws IOException {
        Path f = write("floats.idx", idx(0x0D, new int[] {1}, 4), false);
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> IdxFile.read(f));
        assertTrue(e.getMessage().endsWith("element type 0x0d is not supported; only unsigned bytes (0x08) are read"));
    }

    @Test
    void refusesTruncatedData() throws IOException {
        Path f = write("short.idx.gz", idx(0x08, new int[] {10, 28, 28}, 7000), true);
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> IdxFile.read(f));
        assertEquals(f + ": truncated: the header [10, 28, 28] needs 7840 bytes of data but the file holds 7000",
                e.getMessage());
    }

    @Test
    void refusesTrailingBytes() throws IOException {
        byte[] content = idx(0x08, new int[] {3}, 4);
        Path f = write("long.idx", content, false);
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> IdxFile.read(f));
        assertTrue(e.getMessage().contains("has bytes after the 3 bytes of data"), e.getMessage());
    }

    @Test
    void refusesAHeaderClaimingMoreThanItCanHoldBeforeAllocating() throws IOException {
        Path f = write("huge.idx", idx(0x08, new int[] {1 << 20, 1 << 20}, 0), false);
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> IdxFile.read(f));
        assertTrue(e.getMessage().contains("more than the"), e.getMessage());
    }

    @Test
    void refusesAHeaderThatEndsEarlyAndGarbageGzip() throws IOException {
        Path cut = write("cut.idx", new byte[] {0, 0, 8, 3, 0, 0}, false);
        assertTrue(assertThrows(DatasetFormatException.class, () -> IdxFile.read(cut))
                .getMessage().endsWith("ends inside the header"));
        Path garbage = write("garbage.gz", new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, false);
        assertTrue(assertThrows(DatasetFormatException.class, () -> IdxFile.read(garbage))
                .getMessage().contains("is not a valid gzip file"));
        Path missing = dir.resolve("fashion-mnist/none.gz");
        assertTrue(assertThrows(DatasetFormatException.class, () -> IdxFile.read(missing))
                .getMessage().contains("dataset-fashion-mnist"));
    }
}
