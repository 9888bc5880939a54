package org.streamdl.flink.connector.records;

import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInfo;
import org.streamdl.flink.connector.serialization.StreamDLTypes;

/**
 * Undecoded bytes as a source read them, with where they came from and the source's timestamp
 * (or {@link Sample#NO_TIME}). Sources emit these and never throw on content; decoding into
 * samples or dead letters happens in one place (see {@code DecodeSamples}).
 */
@TypeInfo(StreamDLTypes.RawRecordTypeInfoFactory.class)
public record RawRecord(byte[] payload, Origin origin, long timestamp) {
    public RawRecord {
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(origin, "origin");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RawRecord r && java.util.Arrays.equals(payload, r.payload) && origin.equals(r.origin)
                && timestamp == r.timestamp;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * java.util.Arrays.hashCode(payload) + origin.hashCode()) + Long.hashCode(timestamp);
    }

    @Override
    public String toString() {
        return "RawRecord{" + payload.length + " bytes from " + origin + "}";
    }
}
