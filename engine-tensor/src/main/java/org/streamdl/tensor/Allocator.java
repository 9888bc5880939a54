package org.streamdl.tensor;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
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
 * <p>Limits and memory: an allocator's bytes are the direct memory its live tensors occupy, counted as
 * the size-class buffers they sit in (at most a quarter more than the tensor bytes, see
 * {@link #classBytes}). A root's limit is a real bound; a child made with {@link #newChild(String)} is
 * bounded only by its ancestors. Freed buffers stay in the tree's pool for reuse, within caps described
 * at {@link #pooledBytes()}. When a limit is reached, or the JVM's direct memory is exhausted, the
 * allocation fails with an {@link OutOfTensorMemoryException} that names the allocator, its limit, what
 * it holds and the biggest holders.
 *
 * <p>Thread-safe: an allocator tree shares one lock, so operators on different threads may allocate
 * from one root.
 */
public final class Allocator implements AutoCloseable {
    public static final String DEBUG_PROPERTY = "streamdl.memory.debug";
    /** The limit of a child that has none of its own: it is bounded by its ancestors' limits. */
    public static final long NO_OWN_LIMIT = Long.MAX_VALUE;

    private final String name;
    private final Allocator parent;
    private final long limitBytes;
    private final boolean recordSites;
    private final Object lock;
    private final Map<Storage, Boolean> live = new IdentityHashMap<>();
    private final BufferPool pool;          // shared by the whole tree
    private final Allocator root;
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
        this.pool = parent == null ? new BufferPool(limitBytes) : parent.pool;
        this.root = parent == null ? this : parent.root;
    }

    /** A root allocator; records allocation sites when {@value #DEBUG_PROPERTY} is {@code true}. */
    public static Allocator root(String name, long limitBytes) {
        return new Allocator(name, null, limitBytes, Boolean.getBoolean(DEBUG_PROPERTY));
    }

    public static Allocator root(String name, long limitBytes, boolean recordAllocationSites) {
        return new Allocator(name, null, limitBytes, recordAllocationSites);
    }

    /**
     * A child bounded only by this allocator's limit and its ancestors': for the parts of an owner's
     * memory (a model's plans, one step's temporaries) whose share of the owner's limit is not fixed.
     */
    public Allocator newChild(String childName) {
        return newChild(childName, NO_OWN_LIMIT);
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
        int capacity = DirectMemory.classCapacity(bytes);
        synchronized (lock) {
            checkOpen();
            reserve(bytes, capacity);
            try {
                Throwable site = recordSites ? new Throwable("allocated here") : null;
                ByteBuffer raw = pool.take(capacity);
                if (raw == null) {
                    raw = allocateFromSystem(bytes, capacity);   // new direct memory is zeroed by the JDK
                } else if (zeroed) {
                    DirectMemory.zero(raw);
                }
                if (!zeroed && recordSites) {
                    DirectMemory.poison(raw);   // debug mode: a kernel that reads what it never wrote sees NaNs
                }
                Storage storage = new Storage(this, bytes, dtype, shape, site, raw);
                live.put(storage, Boolean.TRUE);
                return storage;
            } catch (RuntimeException e) {
                release(capacity);
                throw e;
            }
        }
    }

    private ByteBuffer allocateFromSystem(long bytes, int capacity) {
        try {
            return DirectMemory.allocate(capacity);
        } catch (OutOfMemoryError full) {
            OutOfTensorMemoryException e = new OutOfTensorMemoryException(Checks.format(
                    "allocator '%s': cannot allocate %s: the JVM's direct memory is exhausted (%s of %s reserved by the"
                            + " process, none of it pooled now; raise -XX:MaxDirectMemorySize, on Flink"
                            + " taskmanager.memory.task.off-heap.size); '%s' holds %s of its %s limit%s",
                    path(), bytesToString(bytes), bytesToString(DirectMemory.reservedBytes()),
                    bytesToString(DirectMemory.LIMIT_BYTES), root.name, bytesToString(root.usedBytes),
                    bytesToString(root.limitBytes), root.biggestHolders()));
            e.initCause(full);
            throw e;
        }
    }

    /** Frees a storage: its buffer goes back to the tree's pool, or to the system when the pool is full. */
    private void recycle(Storage storage) {
        ByteBuffer raw = storage.release();
        if (raw != null) {
            release(raw.capacity());
            pool.give(raw, root.peakBytes);
        }
    }

    private void reserve(long bytes, int capacity) {
        for (Allocator a = this; a != null; a = a.parent) {
            if (a.usedBytes + capacity > a.limitBytes) {
                String over = a == this ? "" : Checks.format(" (its ancestor '%s' is full)", a.path());
                throw new OutOfTensorMemoryException(Checks.format(
                        "allocator '%s'%s: cannot allocate %s, %s of %s in use%s",
                        path(), over, bytesToString(bytes), bytesToString(a.usedBytes), bytesToString(a.limitBytes),
                        a.biggestHolders()));
            }
        }
        for (Allocator a = this; a != null; a = a.parent) {
            a.usedBytes += capacity;
            a.peakBytes = Math.max(a.peakBytes, a.usedBytes);
        }
    }

    /**
     * The direct memory a tensor of {@code bytes} occupies: its size class, with room for the alignment.
     * This is what {@link #usedBytes()} counts.
     */
    public static long classBytes(long bytes) {
        return DirectMemory.classCapacity(bytes);
    }

    /** The JVM's direct memory limit ({@code -XX:MaxDirectMemorySize}, else the maximum heap size). */
    public static long directMemoryLimitBytes() {
        return DirectMemory.LIMIT_BYTES;
    }

    /** Direct memory the JVM has handed out to the whole process, StreamDL's and other libraries'. */
    public static long directMemoryReservedBytes() {
        return DirectMemory.reservedBytes();
    }

    /**
     * The three largest holders under this allocator, for messages: its children (with what they hold,
     * their own children included) and its own largest tensors. Empty when it holds nothing.
     */
    private String biggestHolders() {
        List<String> holders = new ArrayList<>();
        List<Allocator> byUse = new ArrayList<>(children);
        byUse.sort((x, y) -> Long.compare(y.usedBytes, x.usedBytes));
        for (Allocator child : byUse.subList(0, Math.min(3, byUse.size()))) {
            if (child.usedBytes > 0) {
                holders.add(Checks.format("'%s' %s", child.path(), bytesToString(child.usedBytes)));
            }
        }
        List<Storage> tensors = new ArrayList<>(live.keySet());
        tensors.sort((x, y) -> Long.compare(y.byteSize(), x.byteSize()));
        for (Storage t : tensors.subList(0, Math.min(3, tensors.size()))) {
            holders.add(Checks.format("%s in '%s' %s", t.description(), path(), bytesToString(t.byteSize())));
        }
        return holders.isEmpty() ? "" : "; biggest holders: " + String.join(", ", holders);
    }

    /** {@code lenet5/plans}: the names from the root down to this allocator. */
    public String path() {
        return parent == null ? name : parent.path() + "/" + name;
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

    /**
     * Frees every tensor this allocator holds, keeping it open (its children are left alone): scratch
     * memory of a plan is reused call after call this way, without an allocator per call.
     */
    public void freeAll() {
        synchronized (lock) {
            for (Storage s : live.keySet()) {
                recycle(s);
            }
            live.clear();
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

    /** Starts measuring {@link #peakBytes()} afresh from what is in use now. */
    public void resetPeakBytes() {
        synchronized (lock) {
            peakBytes = usedBytes;
        }
    }

    /**
     * Bytes of freed buffers the tree keeps for reuse, not counted in {@link #usedBytes()}: at most
     * 64 MiB, a quarter of the root's limit and the root's peak usage per tree, at most a quarter of the
     * JVM's direct memory across all trees, and all of it released before an allocation would pass the
     * JVM's limit.
     */
    public long pooledBytes() {
        return pool.heldBytes();
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
                .append(bytesToString(usedBytes))
                .append(limitBytes == NO_OWN_LIMIT ? " in use (no limit of its own)" : " of " + bytesToString(limitBytes) + " in use")
                .append('\n');
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
                pool.close();
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
        return String.format(Locale.ROOT, "%.1f %s", value, units[unit]);
    }

    @Override
    public String toString() {
        return "Allocator('" + name + "')";
    }
}
