package org.streamdl.tensor;

/** An allocation would exceed an allocator's byte limit; the message names the allocator and sizes. */
public final class OutOfTensorMemoryException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public OutOfTensorMemoryException(String message) {
        super(message);
    }
}
