package org.streamdl.flink.connector.formats;

/**
 * Why a record cannot be used, in words for the dead-letter reason: the field, what was expected
 * and what was found. Thrown by formats and {@link SampleSpec}, caught by the decoding operator.
 */
public final class RecordException extends Exception {
    private static final long serialVersionUID = 1L;

    public RecordException(String reason) {
        super(reason, null, false, false); // the reason is the point; a stack trace per bad record is not
    }

    public RecordException(String reason, Throwable cause) {
        super(reason + " (" + cause + ")", null, false, false);
    }
}
