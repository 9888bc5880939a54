package org.streamdl.flink.connector.records;

import java.util.Arrays;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInfo;
import org.streamdl.flink.connector.serialization.StreamDLTypes;

/**
 * A record that could not be used: its raw bytes exactly as read, where it came from, why it was
 * refused (naming the field, what was expected and what was found) and when.
 */
@TypeInfo(StreamDLTypes.DeadLetterTypeInfoFactory.class)
public record DeadLetter(byte[] payload, Origin origin, String reason, long failedAt) {
    public DeadLetter {
        Objects.requireNonNull(payload, "payload");
        Objects.requireNonNull(origin, "origin");
        Objects.requireNonNull(reason, "reason");
    }

    public static DeadLetter of(RawRecord record, String reason) {
        return new DeadLetter(record.payload(), record.origin(), reason, System.currentTimeMillis());
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeadLetter d && Arrays.equals(payload, d.payload) && origin.equals(d.origin)
                && reason.equals(d.reason) && failedAt == d.failedAt;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(payload), origin, reason, failedAt);
    }

    @Override
    public String toString() {
        return "DeadLetter{" + origin + ": " + reason + " (" + payload.length + " bytes)}";
    }
}
