package org.streamdl.tensor;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;

/**
 * Allocates 64-byte aligned direct memory and frees it on request. Freeing goes through
 * {@code sun.misc.Unsafe#invokeCleaner} (module jdk.unsupported, JDK 9+), so native memory is
 * returned when its owner closes, not when the garbage collector gets round to it.
 */
final class DirectMemory {
    static final int ALIGNMENT = 64;
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

    /** The capacity of the raw buffer that holds {@code byteSize} aligned bytes; buffers are pooled by it. */
    static int rawCapacity(long byteSize) {
        if (byteSize > Integer.MAX_VALUE - 2L * ALIGNMENT) {
            throw new IllegalArgumentException(Checks.format(
                    "cannot allocate %s bytes in one tensor: the limit is %s bytes (2 GiB)",
                    byteSize, Integer.MAX_VALUE - 2L * ALIGNMENT));
        }
        // alignedSlice rounds both ends to the alignment, so keep a whole aligned block of room
        long rounded = (byteSize + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        return (int) rounded + ALIGNMENT;
    }

    /** A raw buffer, with room to cut an aligned slice of {@code byteSize} bytes out of it. */
    static ByteBuffer allocateRaw(long byteSize) {
        return ByteBuffer.allocateDirect(rawCapacity(byteSize));
    }

    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(1 << 16);

    /** Sets the buffer's bytes to zero with bulk copies (memcpy speed; ByteBuffer has no memset). */
    static void zero(ByteBuffer buffer) {
        int size = buffer.capacity();
        for (int at = 0; at < size; at += ZEROS.capacity()) {
            buffer.put(at, ZEROS, 0, Math.min(ZEROS.capacity(), size - at));
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
