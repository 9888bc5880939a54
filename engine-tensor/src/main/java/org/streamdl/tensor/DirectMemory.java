package org.streamdl.tensor;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;

/**
 * Allocates 64-byte aligned direct memory and frees it on request. Freeing goes through
 * {@code sun.misc.Unsafe#invokeCleaner} (module jdk.unsupported, JDK 9+), so native memory is
 * returned when its owner closes, not when the garbage collector gets round to it.
 *
 * <p>Buffers come in size classes (see {@link #classCapacity}), so a freed buffer can serve any later
 * request of its class. Before a new buffer would take the process past the JVM's direct memory limit
 * ({@code -XX:MaxDirectMemorySize}; a Flink TaskManager sets it from its off-heap memory), every
 * allocator tree's pool is emptied first: pooled memory never causes an allocation to fail.
 */
final class DirectMemory {
    static final int ALIGNMENT = 64;
    /** Buffers above this are allocated at their exact size: such sizes repeat rarely and are never pooled. */
    static final int LARGEST_CLASS = 256 << 20;
    /** The JVM's direct memory limit, what every allocator tree of the process shares. */
    static final long LIMIT_BYTES = jvmDirectMemoryLimit();
    private static final BufferPoolMXBean JVM_DIRECT = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)
            .stream().filter(b -> b.getName().equals("direct")).findFirst().orElse(null);
    private static final Method INVOKE_CLEANER;
    private static final Object UNSAFE;

    static {
        Method invokeCleaner = null;
        Object unsafe = null;
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field field = unsafeClass.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            unsafe = field.get(null);
            invokeCleaner = unsafeClass.getMethod("invokeCleaner", ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            System.getLogger(DirectMemory.class.getName()).log(System.Logger.Level.WARNING,
                    "sun.misc.Unsafe#invokeCleaner is not available ({0}); freed tensors return their"
                            + " memory only when the garbage collector runs", e.toString());
        }
        INVOKE_CLEANER = invokeCleaner;
        UNSAFE = unsafe;
    }

    private DirectMemory() {}

    /**
     * The capacity of the raw buffer that holds {@code byteSize} aligned bytes: room for the aligned
     * bytes, rounded up to a size class. Classes are multiples of 256 bytes up to 4 KiB, then four per
     * power of two (p, 1.25p, 1.5p, 1.75p), so a class wastes at most a quarter of its size; above
     * {@link #LARGEST_CLASS} the capacity is exact.
     */
    static int classCapacity(long byteSize) {
        if (byteSize > Integer.MAX_VALUE - 2L * ALIGNMENT) {
            throw new IllegalArgumentException(Checks.format(
                    "cannot allocate %s bytes in one tensor: the limit is %s bytes (2 GiB)",
                    byteSize, Integer.MAX_VALUE - 2L * ALIGNMENT));
        }
        // alignedSlice rounds both ends to the alignment, so keep a whole aligned block of room
        int raw = (int) ((byteSize + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT) + ALIGNMENT;
        if (raw > LARGEST_CLASS) {
            return raw;
        }
        int step = raw <= 4096 ? 256 : Integer.highestOneBit(raw) / 4;
        return (raw + step - 1) / step * step;
    }

    /**
     * A new zeroed buffer of {@code capacity} bytes (a {@link #classCapacity}). When the process is near
     * its direct memory limit, the pools of all allocator trees are emptied first; if the JVM still
     * refuses, its {@link OutOfMemoryError} reaches the caller, who names the allocator.
     */
    static ByteBuffer allocate(int capacity) {
        if (JVM_DIRECT != null && JVM_DIRECT.getMemoryUsed() + capacity > LIMIT_BYTES) {
            BufferPool.releaseAll();
        }
        try {
            return ByteBuffer.allocateDirect(capacity);
        } catch (OutOfMemoryError full) {
            if (BufferPool.releaseAll() == 0) {
                throw full;
            }
            return ByteBuffer.allocateDirect(capacity);
        }
    }

    /** Direct memory the JVM has handed out to the whole process (ours and other libraries' buffers). */
    static long reservedBytes() {
        return JVM_DIRECT == null ? -1 : JVM_DIRECT.getMemoryUsed();
    }

    /** {@code -XX:MaxDirectMemorySize} when given, else the JVM's default, the maximum heap size. */
    private static long jvmDirectMemoryLimit() {
        long limit = Runtime.getRuntime().maxMemory();
        List<String> args = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (String arg : args) {
            if (arg.startsWith("-XX:MaxDirectMemorySize=")) {
                long parsed = parseSize(arg.substring("-XX:MaxDirectMemorySize=".length()));
                if (parsed > 0) {
                    limit = parsed;
                }
            }
        }
        return limit;
    }

    static long parseSize(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        char last = t.isEmpty() ? ' ' : t.charAt(t.length() - 1);
        if (last == 'k' || last == 'm' || last == 'g' || last == 't') {
            unit = 1L << (10 * ("kmgt".indexOf(last) + 1));
            t = t.substring(0, t.length() - 1);
        }
        try {
            return Math.multiplyExact(Long.parseLong(t), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            return -1;
        }
    }

    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 16);

    /** Sets the buffer's bytes to zero with bulk copies (memcpy speed; ByteBuffer has no memset). */
    static void zero(ByteBuffer buffer) {
        int size = buffer.capacity();
        for (int at = 0; at < size; at += ZEROS.capacity()) {
            buffer.put(at, ZEROS, 0, Math.min(ZEROS.capacity(), size - at));
        }
    }

    private static final ByteBuffer ONES = ByteBuffer.allocateDirect(1 << 12);

    static {
        for (int i = 0; i < ONES.capacity(); i++) {
            ONES.put(i, (byte) 0xFF);
        }
    }

    /** Fills the buffer with 0xFF bytes: NaN as float32, -1 as an integer. */
    static void poison(ByteBuffer buffer) {
        int size = buffer.capacity();
        for (int at = 0; at < size; at += ONES.capacity()) {
            buffer.put(at, ONES, 0, Math.min(ONES.capacity(), size - at));
        }
    }

    static ByteBuffer alignedSlice(ByteBuffer raw, long byteSize) {
        ByteBuffer aligned = raw.alignedSlice(ALIGNMENT);
        aligned.limit((int) byteSize);
        return aligned.slice().order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }

    static void free(ByteBuffer raw) {
        if (INVOKE_CLEANER != null) {
            try {
                INVOKE_CLEANER.invoke(UNSAFE, raw);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("could not free direct memory", e);
            }
        }
    }
}
