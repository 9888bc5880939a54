package org.streamdl.flink.connector.formats;

import java.nio.charset.StandardCharsets;

/**
 * Reads Avro binary encoding from a byte array with every length checked against the bytes left,
 * so a hostile record that claims a huge array or string is refused before anything is allocated.
 * The messages name the field being read.
 */
final class AvroReader {
    private final byte[] buf;
    private int pos;
    private final int end;

    AvroReader(byte[] buf, int offset, int end) {
        this.buf = buf;
        this.pos = offset;
        this.end = end;
    }

    boolean atEnd() {
        return pos == end;
    }

    int remaining() {
        return end - pos;
    }

    long readLong(String field) throws RecordException {
        long raw = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw truncated(field);
            }
            int b = buf[pos++] & 0xff;
            raw |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return (raw >>> 1) ^ -(raw & 1);
            }
        }
        throw new RecordException(field + ": expected a varint, found more than 10 bytes of one");
    }

    int readInt(String field) throws RecordException {
        long v = readLong(field);
        if (v != (int) v) {
            throw new RecordException(field + ": expected an int, found " + v);
        }
        return (int) v;
    }

    float readFloat(String field) throws RecordException {
        need(4, field);
        int bits = (buf[pos] & 0xff) | (buf[pos + 1] & 0xff) << 8 | (buf[pos + 2] & 0xff) << 16 | (buf[pos + 3] & 0xff) << 24;
        pos += 4;
        return Float.intBitsToFloat(bits);
    }

    /** A length prefix, checked to be at most the bytes left. */
    int readLength(String field) throws RecordException {
        long n = readLong(field);
        if (n < 0 || n > remaining()) {
            throw new RecordException(field + ": expected at most " + remaining() + " bytes, found a length of " + n);
        }
        return (int) n;
    }

    byte[] readBytes(String field) throws RecordException {
        int n = readLength(field);
        byte[] out = new byte[n];
        System.arraycopy(buf, pos, out, 0, n);
        pos += n;
        return out;
    }

    String readString(String field) throws RecordException {
        int n = readLength(field);
        String s = new String(buf, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    /**
     * The item count of the next array block (0 ends the array); a negative count's byte size is
     * skipped. Each item takes at least {@code minItemBytes}, which bounds the count by the bytes left.
     */
    long readBlockCount(String field, int minItemBytes) throws RecordException {
        long count = readLong(field);
        if (count < 0) {
            count = -count;
            readLong(field); // block byte size, not needed
        }
        if (count > (long) remaining() / Math.max(1, minItemBytes)) {
            throw new RecordException(field + ": expected at most " + remaining() / Math.max(1, minItemBytes)
                    + " items in the bytes left, found a count of " + count);
        }
        return count;
    }

    int readUnionIndex(String field, int branches) throws RecordException {
        int index = readInt(field);
        if (index < 0 || index >= branches) {
            throw new RecordException(field + ": expected a union branch in [0, " + branches + "), found " + index);
        }
        return index;
    }

    private void need(int n, String field) throws RecordException {
        if (end - pos < n) {
            throw truncated(field);
        }
    }

    private RecordException truncated(String field) {
        return new RecordException(field + ": record truncated (ended while reading it)");
    }
}
