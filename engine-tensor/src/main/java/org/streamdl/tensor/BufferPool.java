package org.streamdl.tensor;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Freed raw buffers of one allocator tree, kept by exact capacity for reuse. A training step
 * allocates the same shapes every time; reusing their memory avoids the system allocation, the
 * page faults and the zero fill each new direct buffer costs (about 30% of a LeNet-5 step). Held
 * bytes are capped; buffers beyond the cap, and all of them when the root closes, go back to the
 * system at once. Guarded by the allocator tree's lock.
 */
final class BufferPool {
    static final long DEFAULT_LIMIT_BYTES = 1L << 30;

    private final long limitBytes;
    private final Map<Integer, ArrayDeque<ByteBuffer>> free = new HashMap<>();
    private long heldBytes;

    BufferPool(long limitBytes) {
        this.limitBytes = limitBytes;
    }

    ByteBuffer take(int capacity) {
        ArrayDeque<ByteBuffer> buffers = free.get(capacity);
        if (buffers == null || buffers.isEmpty()) {
            return null;
        }
        heldBytes -= capacity;
        return buffers.pop();
    }

    void give(ByteBuffer raw) {
        if (heldBytes + raw.capacity() > limitBytes) {
            DirectMemory.free(raw);
            return;
        }
        heldBytes += raw.capacity();
        free.computeIfAbsent(raw.capacity(), c -> new ArrayDeque<>()).push(raw);
    }

    void clear() {
        for (ArrayDeque<ByteBuffer> buffers : free.values()) {
            for (ByteBuffer raw : buffers) {
                DirectMemory.free(raw);
            }
        }
        free.clear();
        heldBytes = 0;
    }
}
