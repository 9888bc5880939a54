package org.streamdl.flink.connector.formats;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/** The Avro schemas kept in this module ({@code org/streamdl/avro/*.avsc}) and their fingerprints. */
public final class AvroSchemas {
    /** Avro's single-object encoding marker, followed by the writer schema's 8-byte fingerprint. */
    static final byte MARKER_0 = (byte) 0xC3;
    static final byte MARKER_1 = (byte) 0x01;
    static final int HEADER_BYTES = 10;

    public static final Schema SAMPLE = load("Sample.avsc");
    public static final Schema PREDICTION = load("Prediction.avsc");
    public static final Schema DEAD_LETTER = load("DeadLetter.avsc");
    public static final Schema MODEL_SNAPSHOT = load("ModelSnapshot.avsc");

    private AvroSchemas() {}

    private static Schema load(String name) {
        try (InputStream in = AvroSchemas.class.getResourceAsStream("/org/streamdl/avro/" + name)) {
            if (in == null) {
                throw new IllegalStateException("schema resource org/streamdl/avro/" + name + " is missing");
            }
            return new Schema.Parser().parse(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read schema " + name, e);
        }
    }

    /** The CRC-64-AVRO fingerprint of the schema's parsing canonical form, as single-object encoding uses. */
    public static long fingerprint(Schema schema) {
        return SchemaNormalization.parsingFingerprint64(schema);
    }

    static void writeHeader(long fingerprint, byte[] out) {
        out[0] = MARKER_0;
        out[1] = MARKER_1;
        for (int i = 0; i < 8; i++) {
            out[2 + i] = (byte) (fingerprint >>> (8 * i));
        }
    }

    /** The fingerprint of a single-object encoded message; a {@link RecordException} if the header is not one. */
    static long readHeader(byte[] message) throws RecordException {
        if (message.length < HEADER_BYTES || message[0] != MARKER_0 || message[1] != MARKER_1) {
            StringBuilder found = new StringBuilder();
            for (int i = 0; i < Math.min(2, message.length); i++) {
                found.append(String.format("%02X ", message[i] & 0xff));
            }
            throw new RecordException("header: expected Avro single-object encoding (C3 01 + 8-byte schema fingerprint), found "
                    + (message.length < HEADER_BYTES ? message.length + " bytes in all" : found.toString().trim()));
        }
        long fp = 0;
        for (int i = 0; i < 8; i++) {
            fp |= (long) (message[2 + i] & 0xff) << (8 * i);
        }
        return fp;
    }
}
