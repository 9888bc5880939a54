package org.streamdl.flink.connector.records;

import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInfo;
import org.streamdl.flink.connector.serialization.StreamDLTypes;

/**
 * Where a raw record came from: a Kafka topic, partition and offset, or a file and line (or
 * record index for binary files). Dead letters carry it so a bad record can be found again.
 */
@TypeInfo(StreamDLTypes.OriginTypeInfoFactory.class)
public record Origin(Kind kind, String name, int partition, long position) {
    /** Serialized by ordinal: add new kinds at the end only. */
    public enum Kind {
        KAFKA, FILE, OTHER
    }

    public Origin {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(name, "name");
    }

    public static Origin kafka(String topic, int partition, long offset) {
        return new Origin(Kind.KAFKA, topic, partition, offset);
    }

    /** A line of a text file (1-based) or a record of a binary file (0-based). */
    public static Origin file(String path, long position) {
        return new Origin(Kind.FILE, path, -1, position);
    }

    public static Origin other(String description) {
        return new Origin(Kind.OTHER, description, -1, -1);
    }

    @Override
    public String toString() {
        return switch (kind) {
            case KAFKA -> "kafka " + name + "-" + partition + "@" + position;
            case FILE -> "file " + name + ":" + position;
            case OTHER -> name;
        };
    }
}
