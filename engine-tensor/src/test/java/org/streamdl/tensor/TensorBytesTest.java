package org.streamdl.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.tensor.ops.Convert;
import org.streamdl.tensor.ops.RandomFill;

class TensorBytesTest {
    private Allocator a;

    @BeforeEach
    void open() {
        a = Allocator.root("test", 16 << 20);
    }

    @AfterEach
    void close() {
        a.close();
    }

    @Test
    void encodesAKnownLayoutByteForByte() {
        Tensor t = Convert.fromFloats(new float[] {1f, -2f}, Shape.of(1, 2), a);
        byte[] bytes = TensorBytes.encode(t);
        ByteBuffer expected = ByteBuffer.allocate(3 + 16 + 8).order(ByteOrder.LITTLE_ENDIAN);
        expected.put((byte) 1).put((byte) 1).put((byte) 2).putLong(1).putLong(2).putFloat(1f).putFloat(-2f);
        assertArrayEquals(expected.array(), bytes);
        assertEquals(bytes.length, TensorBytes.encodedSize(t));
    }

    @Test
    void roundTripsEveryDtypeAndNonContiguousViews() {
        for (DType dtype : DType.values()) {
            Tensor source = a.allocate(dtype, 3, 4);
            Tensor floats = a.allocate(DType.FLOAT32, 3, 4);
            RandomFill.uniform(floats, -100, 100, new Rng(dtype.code()));
            Convert.copy(floats, source);
            Tensor view = source.transpose(0, 1);
            Tensor back = TensorBytes.decode(TensorBytes.encode(view), a);
            assertEquals(dtype, back.dtype());
            assertEquals(Shape.of(4, 3), back.shape());
            assertArrayEquals(Convert.toDoubleArray(view), Convert.toDoubleArray(back), 0.0, dtype.toString());
        }
    }

    @Test
    void decodesConsecutiveTensorsFromOneBuffer() {
        Tensor x = Convert.fromInts(new int[] {1, 2, 3}, Shape.of(3), a);
        Tensor s = Convert.fromFloats(new float[] {7}, Shape.scalar(), a);
        ByteBuffer buffer = ByteBuffer.allocate((int) (TensorBytes.encodedSize(x) + TensorBytes.encodedSize(s)));
        TensorBytes.encode(x, buffer);
        TensorBytes.encode(s, buffer);
        buffer.flip();
        assertArrayEquals(new int[] {1, 2, 3}, Convert.toIntArray(TensorBytes.decode(buffer, a)));
        assertEquals(7f, TensorBytes.decode(buffer, a).getFloat());
        assertEquals(0, buffer.remaining());
    }

    @Test
    void refusesHostileHeadersBeforeAllocating() {
        ByteBuffer huge = ByteBuffer.allocate(3 + 16).order(ByteOrder.LITTLE_ENDIAN);
        huge.put((byte) 1).put((byte) 1).put((byte) 2).putLong(1L << 20).putLong(1L << 20);
        long before = a.usedBytes();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TensorBytes.decode(huge.array(), a));
        assertEquals("encoded float32 tensor (1048576, 1048576) needs 4398046511104 bytes of data but only 0 remain",
                e.getMessage());
        assertEquals(before, a.usedBytes());

        ByteBuffer overflow = ByteBuffer.allocate(3 + 16).order(ByteOrder.LITTLE_ENDIAN);
        overflow.put((byte) 1).put((byte) 1).put((byte) 2).putLong(1L << 62).putLong(1L << 62);
        assertThrows(IllegalArgumentException.class, () -> TensorBytes.decode(overflow.array(), a));

        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TensorBytes.decode(new byte[] {2, 1, 0}, a)).getMessage().contains("format version 2"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TensorBytes.decode(new byte[] {1, 9, 0}, a)).getMessage().contains("unknown dtype code 9"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TensorBytes.decode(new byte[] {1, 1, (byte) 200}, a)).getMessage().contains("rank 200"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TensorBytes.decode(new byte[] {1, 1, 2, 0, 0}, a)).getMessage().contains("bytes of extents"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> TensorBytes.decode(new byte[] {1}, a)).getMessage().contains("ends inside its header"));
    }

    @Test
    void rawFilesMustHaveExactlyTheExpectedLength(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("fc.bias.f32");
        ByteBuffer data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putFloat(1).putFloat(2).putFloat(3);
        Files.write(file, data.array());
        assertArrayEquals(new float[] {1, 2, 3},
                Convert.toFloatArray(TensorBytes.readRawFile(file, DType.FLOAT32, Shape.of(3), a)));
        IOException e = assertThrows(IOException.class,
                () -> TensorBytes.readRawFile(file, DType.FLOAT32, Shape.of(4), a));
        assertEquals(file + ": holds 12 bytes but a float32 tensor (4) needs 16", e.getMessage());
        assertArrayEquals(data.array(), TensorBytes.toRawBytes(TensorBytes.readRawFile(file, DType.FLOAT32, Shape.of(3), a)));
    }
}
