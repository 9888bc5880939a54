package org.streamdl.flink.connector.formats;

import java.io.Serializable;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.records.Sample;

/**
 * Turns a raw record into a sample. Implementations never throw anything but
 * {@link RecordException} for bad content, whose message becomes the dead letter's reason; the
 * result is then checked against a {@link SampleSpec} by the caller.
 */
public interface SampleFormat extends Serializable {
    Sample decode(RawRecord record, SampleSpec spec) throws RecordException;

    /** A short name for logs and dead-letter reasons, such as {@code avro} or {@code csv}. */
    String name();
}
