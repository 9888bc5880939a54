package org.streamdl.tensor;

import java.nio.ByteBuffer;

/**
 * A block of off-heap, 64-byte aligned, little-endian memory owned by one {@link Allocator}. Every
 * tensor view of it shares it. Once freed, any access throws {@link IllegalStateException}: the
 * memory has gone back to the system and must not be touched.
 *
 * <p>Not thread-safe: a storage is confined to the thread that uses its allocator, except that
 * freeing from the allocator's owner is always safe once no other thread uses it.
 */
public final class Storage {
    private final Allocator owner;
    private final long byteSize;
    private final ByteBuffer raw;
    private final ByteBuffer aligned;
    private final Throwable allocationSite; // recorded in debug mode only
    private final DType dtype;      // for messages only, rendered when one is needed
    private final Shape shape;
    private boolean freed;

    Storage(Allocator owner, long byteSize, DType dtype, Shape shape, Throwable allocationSite, ByteBuffer raw) {
        this.owner = owner;
        this.byteSize = byteSize;
        this.dtype = dtype;
        this.shape = shape;
        this.allocationSite = allocationSite;
        this.raw = raw;
        this.aligned = DirectMemory.alignedSlice(raw, byteSize);
    }

    /**
     * The memory as a little-endian buffer of {@link #byteSize()} bytes, position 0. Native
     * libraries may take its address. Callers must not change its position or limit in place;
     * {@link ByteBuffer#duplicate()} it for that.
     */
    public ByteBuffer buffer() {
        checkLive();
        return aligned;
    }

    public long byteSize() {
        return byteSize;
    }

    public Allocator owner() {
        return owner;
    }

    public boolean isLive() {
        return !freed;
    }

    /** Throws {@link IllegalStateException} when this storage has been freed. */
    public void checkLive() {
        if (freed) {
            throw new IllegalStateException(Checks.format(
                    "%s was freed (allocator '%s'%s); it cannot be used after its tensor or allocator is closed",
                    description(), owner.name(), owner.isClosed() ? " is closed" : ""));
        }
    }

    Throwable allocationSite() {
        return allocationSite;
    }

    String description() {
        return dtype + " tensor " + shape;
    }

    /**
     * Marks the storage freed and hands back its raw buffer for the allocator to pool or release;
     * null if it was freed already. Called by the owning allocator only.
     */
    ByteBuffer release() {
        if (freed) {
            return null;
        }
        freed = true;
        return raw;
    }
}
