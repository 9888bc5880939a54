package org.streamdl.dnn.data;

import java.io.IOException;
import java.nio.file.Path;

/** A data file that cannot be read as what it claims to be; the message starts with the file. */
public final class DatasetFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public DatasetFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public DatasetFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
