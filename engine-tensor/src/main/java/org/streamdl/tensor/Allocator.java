package org.streamdl.tensor;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A named owner of off-heap tensor memory with a byte limit. Children account into their parents
 * (a child's bytes count against every ancestor's limit), so a per-step child can hold the
 * temporaries of one training step and free them all at once on {@link #close()}.
 *
 * <pre>{@code
 * try (Allocator step = model.newChild("train-step", 256L << 20)) {
 *     Tensor logits = model.forward(batch, step);   // temporaries live in `step`
 * }                                                 // freed here
 * }</pre>
 *
 * <p>Closing an allocator frees every tensor it still holds; using one of them afterwards throws
 * {@link IllegalStateException}. Closing an allocator whose children are still open closes them too
 * and then throws, naming them: that is a leak in the caller's code. With
 * {@code -Dstreamdl.memory.debug=true} (or {@link #root(String, long, boolean)}) each allocation
 * records where it was made, and those sites appear in leak and use-after-free reports.
 *
 * <p>Thread-safe: an allocator tree shares one lock, so operators on different threads may allocate
 * from one root.
 */
public final class Allocator implements AutoCloseable {
    public static final String DEBUG_PROPERTY = "streamdl.memory.debug";

    private final String name;
    private final Allocator parent;
    private final long limitBytes;
    private final boolean recordSites;
    private final Object lock;
    private final Map<Storage, Boolean> live = new IdentityHashMap<>();
    private final BufferPool pool;          // shared by the whole tree
    private final List<Allocator> children = new ArrayList<>();
    private long usedBytes;      // this allocator's storages plus its children's
    private long peakBytes;
    private boolean closed;

    private Allocator(String name, Allocator parent, long limitBytes, boolean recordSites) {
        Checks.argument(name != null && !name.isEmpty(), "an allocator needs a non-empty name");
        Checks.argument(limitBytes >= 0, "allocator '%s': limitBytes must be >= 0 but was %s", name, limitBytes);
        this.name = name;
        this.parent = parent;
        this.limitBytes = limitBytes;
        this.recordSites = recordSites;
        this.lock = parent == null ? new Object() : parent.lock;
        this.pool = parent == null ? new BufferPool(Math.min(limitBytes, BufferPool.DEFAULT_LIMIT_BYTES)) : parent.pool;
    }

    /** A root allocator; records allocation sites when {@value #DEBUG_PROPERTY} is {@code true}. */
    public static Allocator root(String name, long limitBytes) {
        return new Allocator(name, null, limitBytes, Boolean.getBoolean(DEBUG_PROPERTY));
    }

    public static Allocator root(String name, long limitBytes, boolean recordAllocationSites) {
        return new Allocator(name, null, limitBytes, recordAllocationSites);
    }

    /** A child whose allocations also count against this allocator's limit. */
    public Allocator newChild(String childName, long childLimitBytes) {
        synchronized (lock) {
            checkOpen();
            Allocator child = new Allocator(childName, this, childLimitBytes, recordSites);
            children.add(child);
            return child;
        }
    }

    /** A zero-filled, contiguous tensor owned by this allocator. */
    public Tensor allocate(DType dtype, Shape shape) {
        return allocate(dtype, shape, true);
    }

    public Tensor allocate(DType dtype, long... dims) {
        return allocate(dtype, Shape.of(dims), true);
    }

    /**
     * A contiguous tensor whose contents are unspecified: for outputs a kernel overwrites
     * entirely, which then skip the zero fill. Memory freed in this allocator tree is reused, so
     * per-step temporaries cost no system allocation after the first step.
     */
    public Tensor allocateUninitialized(DType dtype, Shape shape) {
        return allocate(dtype, shape, false);
    }

    private Tensor allocate(DType dtype, Shape shape, boolean zeroed) {
        long bytes;
        try {
            bytes = Math.multiplyExact(shape.elementCount(), (long) dtype.byteSize());
        } catch (ArithmeticException overflow) {
            throw new IllegalArgumentException(Checks.format(
                    "allocator '%s': a %s tensor of shape %s is larger than %s bytes", name, dtype, shape, Long.MAX_VALUE));
        }
        Storage storage = allocateStorage(bytes, dtype, shape, zeroed);
        return new Tensor(storage, dtype, shape, shape.contiguousStrides(), 0, false);
    }

    private Storage allocateStorage(long bytes, DType dtype, Shape shape, boolean zeroed) {
        synchronized (lock) {
            checkOpen();
            reserve(bytes);
            try {
                Throwable site = recordSites ? new Throwable("allocated here") : null;
                ByteBuffer raw = pool.take(DirectMemory.rawCapacity(bytes));
                if (raw == null) {
                    raw = DirectMemory.allocateRaw(bytes);      // new direct memory is zeroed by the JDK
                } else if (zeroed) {
                    DirectMemory.zero(raw);
                }
                Storage storage = new Storage(this, bytes, dtype, shape, site, raw);
                live.put(storage, Boolean.TRUE);
                return storage;
            } catch (RuntimeException | OutOfMemoryError e) {
                release(bytes);
                throw e;
            }
        }
    }

    /** Frees a storage: its buffer goes back to the tree's pool, or to the system when the pool is full. */
    private void recycle(Storage storage) {
        ByteBuffer raw = storage.release();
        if (raw != null) {
            release(storage.byteSize());
            pool.give(raw);
        }
    }

    private void reserve(long bytes) {
        for (Allocator a = this; a != null; a = a.parent) {
            if (a.usedBytes + bytes > a.limitBytes) {
                String over = a == this ? "" : Checks.format(" (its ancestor '%s' is full)", a.name);
                throw new OutOfTensorMemoryException(Checks.format(
                        "allocator '%s'%s: cannot allocate %s, %s of %s in use",
                        name, over, bytesToString(bytes), bytesToString(a.usedBytes), bytesToString(a.limitBytes)));
            }
        }
        for (Allocator a = this; a != null; a = a.parent) {
            a.usedBytes += bytes;
            a.peakBytes = Math.max(a.peakBytes, a.usedBytes);
        }
    }

    private void release(long bytes) {
        for (Allocator a = this; a != null; a = a.parent) {
            a.usedBytes -= bytes;
        }
    }

    /** Frees one storage early; called through {@link Tensor#close()}. */
    void free(Storage storage) {
        synchronized (lock) {
            if (live.remove(storage) != null) {
                recycle(storage);
            }
        }
    }

    public String name() {
        return name;
    }

    public long limitBytes() {
        return limitBytes;
    }

    /** Bytes held by this allocator and all of its children. */
    public long usedBytes() {
        synchronized (lock) {
            return usedBytes;
        }
    }

    public long peakBytes() {
        synchronized (lock) {
            return peakBytes;
        }
    }

    public boolean isClosed() {
        synchronized (lock) {
            return closed;
        }
    }

    /**
     * What this allocator and its children still hold: one line per open allocator and per live
     * tensor, with the allocation site when sites are recorded.
     */
    public String describeLive() {
        synchronized (lock) {
            StringBuilder sb = new StringBuilder();
            describe(sb, "");
            return sb.toString();
        }
    }

    private void describe(StringBuilder sb, String indent) {
        sb.append(indent).append("allocator '").append(name).append("': ")
                .append(bytesToString(usedBytes)).append(" of ").append(bytesToString(limitBytes)).append(" in use\n");
        for (Storage s : live.keySet()) {
            sb.append(indent).append("  ").append(s.description()).append(", ").append(bytesToString(s.byteSize()));
            Throwable site = s.allocationSite();
            if (site != null) {
                for (StackTraceElement e : site.getStackTrace()) {
                    if (!isLibraryFrame(e.getClassName())) {
                        sb.append(", allocated at ").append(e);
                        break;
                    }
                }
            }
            sb.append('\n');
        }
        for (Allocator child : children) {
            child.describe(sb, indent + "  ");
        }
    }

    /** Frames of the allocation machinery itself; the site reported is the first frame outside them. */
    private static boolean isLibraryFrame(String className) {
        int dot = className.lastIndexOf('.');
        String pkg = dot < 0 ? "" : className.substring(0, dot);
        return className.equals(Allocator.class.getName()) || className.equals(Tensor.class.getName())
                || pkg.equals("org.streamdl.tensor.ops") || pkg.equals("org.streamdl.tensor.reference");
    }

    /**
     * Frees everything this allocator holds. If children are still open they are closed as well and
     * an {@link IllegalStateException} names them (with what they held), since that is a leak.
     */
    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            String leaked = children.isEmpty() ? null : describeLive();
            List<String> names = new ArrayList<>();
            for (Allocator child : new ArrayList<>(children)) {
                names.add("'" + child.name + "'");
                child.closeQuietly();
            }
            for (Storage s : live.keySet()) {
                recycle(s);
            }
            live.clear();
            closed = true;
            if (parent != null) {
                parent.children.remove(this);
            } else {
                pool.clear();
            }
            if (leaked != null) {
                throw new IllegalStateException(Checks.format(
                        "allocator '%s' was closed while its children %s were open; close children first."
                                + " They held:\n%s", name, String.join(", ", names), leaked));
            }
        }
    }

    private void closeQuietly() {
        for (Allocator child : new ArrayList<>(children)) {
            child.closeQuietly();
        }
        for (Storage s : live.keySet()) {
            recycle(s);
        }
        live.clear();
        closed = true;
        parent.children.remove(this);
    }

    private void checkOpen() {
        Checks.state(!closed, "allocator '%s' is closed", name);
    }

    /** {@code 1.5 MiB}, {@code 512 B}: sizes as a person reads them. */
    public static String bytesToString(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double value = bytes;
        int unit = -1;
        while (value >= 1024 && unit < units.length - 1) {
            value /= 1024;
            unit++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    @Override
    public String toString() {
        return "Allocator('" + name + "')";
    }
}
