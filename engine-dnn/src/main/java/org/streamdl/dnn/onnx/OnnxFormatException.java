package org.streamdl.dnn.onnx;

/** An ONNX file that cannot be read or imported; the message names the file and the problem. */
public final class OnnxFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    public OnnxFormatException(String message) {
        super(message);
    }

    public OnnxFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
