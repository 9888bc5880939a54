package org.streamdl.dnn.model;

import java.io.IOException;
import java.nio.file.Path;

/** A model file that cannot be read safely; the message starts with the file and says what is wrong. */
public final class ModelFormatException extends IOException {
    private static final long serialVersionUID = 1L;

    public ModelFormatException(Path file, String problem) {
        super(file + ": " + problem);
    }

    public ModelFormatException(Path file, String problem, Throwable cause) {
        super(file + ": " + problem, cause);
    }
}
