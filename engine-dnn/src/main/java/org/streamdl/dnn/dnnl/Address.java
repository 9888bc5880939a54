package org.streamdl.dnn.dnnl;

import java.nio.Buffer;
import org.bytedeco.javacpp.Pointer;

/**
 * A reusable native address for handing tensor memory to oneDNN. {@code new Pointer(buffer)}
 * allocates a deallocator proxy and registers it with JavaCPP's reference tracking on every call;
 * on the batch-1 inference path that was a large share of the per-call garbage, whose first touch
 * of fresh heap pages cost more than the primitives. One holder per plan, rebound per call.
 */
final class Address extends Pointer {
    /** The first byte of {@code buffer}'s memory. */
    static long of(Buffer buffer) {
        return getDirectBufferAddress(buffer);
    }

    /** This holder pointing at {@code bytes}: no allocation, no native call. */
    Address at(long bytes) {
        address = bytes;
        position = 0;
        return this;
    }
}
