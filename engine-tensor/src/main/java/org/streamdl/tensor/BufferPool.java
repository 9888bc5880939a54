package org.streamdl.tensor;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Freed buffers of one allocator tree, kept by size class for reuse. A training step or a scoring
 * batch allocates the same sizes again and again; reusing their memory avoids the system allocation,
 * the page faults and the zero fill each new direct buffer costs (about 30 % of a LeNet-5 step).
 *
 * <p>The policy, so that pooling never costs a job its memory:
 * <ul>
 *   <li><b>Size classes</b> ({@link DirectMemory#classCapacity}): batches of 199 and 200 rows share
 *       buffers, so batch sizes that vary do not fill the pool with one buffer per size.</li>
 *   <li><b>A small cap per tree</b>: at most {@link #TREE_LIMIT_BYTES}, at most a quarter of the
 *       tree's own limit, and at most what the tree has held at its peak in live tensors, so a tree
 *       never takes more than twice its peak from the process.</li>
 *   <li><b>A cap per process</b>: all pools together hold at most a quarter of the JVM's direct memory
 *       limit ({@link #PROCESS_LIMIT_BYTES}).</li>
 *   <li><b>Released under pressure</b>: before a new buffer would pass the JVM's direct memory limit,
 *       every pool of the process is emptied ({@link #releaseAll}).</li>
 * </ul>
 * A buffer that would pass a cap goes back to the system at once, and so do all of a tree's buffers
 * when its root closes. Measured against the exact-capacity pool this replaces: see
 * {@code docs/operations.md}.
 *
 * <p>Thread-safe; it takes only its own lock and calls nothing that locks, so any thread may empty any
 * pool.
 */
final class BufferPool {
    static final long TREE_LIMIT_BYTES = 64L << 20;
    static final long PROCESS_LIMIT_BYTES = DirectMemory.LIMIT_BYTES / 4;
    private static final int SMALL_CLASSES = 16;                // 256 B .. 4 KiB in 256-byte steps
    private static final Set<BufferPool> POOLS = ConcurrentHashMap.newKeySet();
    private static final AtomicLong PROCESS_HELD = new AtomicLong();

    private final long limitBytes;
    private final ArrayDeque<ByteBuffer>[] byClass;
    private long heldBytes;
    private boolean closed;

    @SuppressWarnings("unchecked")
    BufferPool(long treeLimitBytes) {
        this.limitBytes = Math.min(TREE_LIMIT_BYTES, treeLimitBytes / 4);
        this.byClass = new ArrayDeque[classIndex(DirectMemory.LARGEST_CLASS) + 1];
        POOLS.add(this);
    }

    /** A pooled buffer of exactly {@code capacity} bytes (a class capacity), or null. */
    synchronized ByteBuffer take(int capacity) {
        if (capacity > DirectMemory.LARGEST_CLASS) {
            return null;
        }
        ArrayDeque<ByteBuffer> buffers = byClass[classIndex(capacity)];
        if (buffers == null || buffers.isEmpty()) {
            return null;
        }
        heldBytes -= capacity;
        PROCESS_HELD.addAndGet(-capacity);
        return buffers.pop();
    }

    /**
     * Keeps a freed buffer, or frees it now when a cap would be passed; {@code treePeakBytes}, the most
     * the tree has held in live tensors, is a cap too.
     */
    void give(ByteBuffer raw, long treePeakBytes) {
        if (!keep(raw, raw.capacity(), Math.min(limitBytes, treePeakBytes))) {
            DirectMemory.free(raw);
        }
    }

    private synchronized boolean keep(ByteBuffer raw, int capacity, long limit) {
        if (closed || capacity > DirectMemory.LARGEST_CLASS || heldBytes + capacity > limit) {
            return false;
        }
        if (PROCESS_HELD.addAndGet(capacity) > PROCESS_LIMIT_BYTES) {
            PROCESS_HELD.addAndGet(-capacity);
            return false;
        }
        heldBytes += capacity;
        int index = classIndex(capacity);
        if (byClass[index] == null) {
            byClass[index] = new ArrayDeque<>();
        }
        byClass[index].push(raw);
        return true;
    }

    synchronized long heldBytes() {
        return heldBytes;
    }

    long limitBytes() {
        return limitBytes;
    }

    /** Frees every pooled buffer; returns the bytes freed. */
    synchronized long clear() {
        long freed = heldBytes;
        for (ArrayDeque<ByteBuffer> buffers : byClass) {
            if (buffers != null) {
                for (ByteBuffer raw : buffers) {
                    DirectMemory.free(raw);
                }
                buffers.clear();
            }
        }
        PROCESS_HELD.addAndGet(-heldBytes);
        heldBytes = 0;
        return freed;
    }

    /** Frees every pooled buffer and keeps no more: the tree's root has closed. */
    synchronized void close() {
        clear();
        closed = true;
        POOLS.remove(this);
    }

    /** Empties the pool of every allocator tree in the process; returns the bytes freed. */
    static long releaseAll() {
        long freed = 0;
        for (BufferPool pool : POOLS) {
            freed += pool.clear();
        }
        return freed;
    }

    /** Bytes pooled by all trees of the process. */
    static long processHeldBytes() {
        return PROCESS_HELD.get();
    }

    /** 0..15 for the 256-byte steps, then four classes per power of two from 4 KiB. */
    static int classIndex(int capacity) {
        if (capacity <= 4096) {
            return capacity / 256 - 1;
        }
        int power = Integer.highestOneBit(capacity);
        int sub = (capacity - power) / (power / 4);
        return SMALL_CLASSES + (Integer.numberOfTrailingZeros(power) - 12) * 4 + sub - 1;
    }
}
