package org.streamdl.dnn.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * An IDX file as (Fashion-)MNIST ships them: a 4-byte magic {@code 0 0 type rank}, {@code rank}
 * big-endian int32 extents, then the elements big-endian. Files ending in {@code .gz} are
 * decompressed on the fly. Only unsigned-byte data (type {@code 0x08}) is read, which is what image
 * and label files hold; other types are refused by name.
 *
 * <p>Everything the header claims is checked before the data array is allocated, and the data must
 * end exactly where the header says.
 */
public final class IdxFile {
    /** The largest file we read into one array: 2 GiB less a little (Java array limit). */
    static final long MAX_ELEMENTS = Integer.MAX_VALUE - 8;
    private static final int UNSIGNED_BYTE = 0x08;

    private final int[] dims;
    private final byte[] data;

    private IdxFile(int[] dims, byte[] data) {
        this.dims = dims;
        this.data = data;
    }

    /** Extents, outermost first: {@code [60000, 28, 28]} for a training image file. */
    public int[] dims() {
        return dims.clone();
    }

    /** The unsigned bytes, row-major; callers read them with {@code & 0xff}. */
    public byte[] data() {
        return data;
    }

    public static IdxFile read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new DatasetFormatException(file, "no such file"
                    + (file.toString().contains("fashion-mnist") ? " (Debian's package dataset-fashion-mnist installs it)" : ""));
        }
        try (InputStream raw = Files.newInputStream(file);
             InputStream in = file.toString().endsWith(".gz")
                     ? new GZIPInputStream(new BufferedInputStream(raw, 1 << 16), 1 << 16)
                     : new BufferedInputStream(raw, 1 << 16)) {
            return read(file, new DataInputStream(in));
        } catch (ZipException e) {
            throw new DatasetFormatException(file, "is not a valid gzip file: " + e.getMessage(), e);
        } catch (EOFException e) {
            throw new DatasetFormatException(file, "ends inside the header", e);
        }
    }

    private static IdxFile read(Path file, DataInputStream in) throws IOException {
        int zero0 = in.readUnsignedByte();
        int zero1 = in.readUnsignedByte();
        int type = in.readUnsignedByte();
        int rank = in.readUnsignedByte();
        if (zero0 != 0 || zero1 != 0) {
            throw new DatasetFormatException(file, String.format(
                    "bad magic 0x%02x%02x%02x%02x: an IDX file starts with two zero bytes", zero0, zero1, type, rank));
        }
        if (type != UNSIGNED_BYTE) {
            throw new DatasetFormatException(file, String.format(
                    "element type 0x%02x is not supported; only unsigned bytes (0x08) are read", type));
        }
        if (rank < 1 || rank > 8) {
            throw new DatasetFormatException(file, "rank " + rank + " is out of range 1..8");
        }
        int[] dims = new int[rank];
        long count = 1;
        for (int axis = 0; axis < rank; axis++) {
            dims[axis] = in.readInt();
            if (dims[axis] < 0) {
                throw new DatasetFormatException(file, "axis " + axis + " has negative extent " + dims[axis]);
            }
            count *= dims[axis];
            if (count > MAX_ELEMENTS) {
                throw new DatasetFormatException(file, "header claims " + Arrays.toString(dims)
                        + " elements, more than the " + MAX_ELEMENTS + " this reader holds in memory");
            }
        }
        byte[] data = new byte[(int) count];
        int read = in.readNBytes(data, 0, data.length);
        if (read < data.length) {
            throw new DatasetFormatException(file, "truncated: the header " + Arrays.toString(dims) + " needs "
                    + data.length + " bytes of data but the file holds " + read);
        }
        if (in.read() >= 0) {
            throw new DatasetFormatException(file, "has bytes after the " + data.length
                    + " bytes of data its header " + Arrays.toString(dims) + " describes");
        }
        return new IdxFile(dims, data);
    }
}
