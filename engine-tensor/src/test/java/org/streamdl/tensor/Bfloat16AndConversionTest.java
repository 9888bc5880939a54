package org.streamdl.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.streamdl.tensor.ops.Convert;

class Bfloat16AndConversionTest {

    private static float bf16(float x) {
        return ElementAccess.bfloat16ToFloat(ElementAccess.floatToBfloat16(x));
    }

    @Test
    void representableValuesAreExact() {
        for (float x : new float[] {0f, -0f, 1f, -2f, 0.5f, 256f, 3.140625f, Float.MIN_NORMAL}) {
            assertEquals(Float.floatToIntBits(x), Float.floatToIntBits(bf16(x)), "value " + x);
        }
    }

    @Test
    void roundsToNearestWithTiesToEven() {
        float ulp = Math.ulp(bf16(1f)) * 0 + 0x1.0p-7f;              // bfloat16 spacing at 1.0
        assertEquals(1f, bf16(1f + ulp * 0.49f));
        assertEquals(1f + ulp, bf16(1f + ulp * 0.51f));
        assertEquals(1f, bf16(1f + ulp * 0.5f));                     // tie, 1.0 has the even mantissa
        assertEquals(1f + 2 * ulp, bf16(1f + ulp * 1.5f));           // tie, rounds up to even
        assertEquals(-1f, bf16(-1f - ulp * 0.5f));
        // raw bits: 0x3F80_8000 is exactly half-way between 0x3F80 and 0x3F81
        assertEquals((short) 0x3F80, ElementAccess.floatToBfloat16(Float.intBitsToFloat(0x3F808000)));
        assertEquals((short) 0x3F82, ElementAccess.floatToBfloat16(Float.intBitsToFloat(0x3F818000)));
        assertEquals((short) 0x3F81, ElementAccess.floatToBfloat16(Float.intBitsToFloat(0x3F808001)));
    }

    @Test
    void keepsNanAndInfinityAndOverflowsToInfinity() {
        assertTrue(Float.isNaN(bf16(Float.NaN)));
        // a NaN whose payload sits only in the low bits must not become infinity
        assertTrue(Float.isNaN(bf16(Float.intBitsToFloat(0x7F800001))));
        assertEquals(Float.POSITIVE_INFINITY, bf16(Float.POSITIVE_INFINITY));
        assertEquals(Float.NEGATIVE_INFINITY, bf16(Float.NEGATIVE_INFINITY));
        assertEquals(Float.POSITIVE_INFINITY, bf16(Float.MAX_VALUE));
        assertEquals(Float.intBitsToFloat(0x7F7F0000), bf16(Float.intBitsToFloat(0x7F7F7FFF)));
    }

    @Test
    void subnormalsRoundLikeEverythingElse() {
        float tiny = Float.intBitsToFloat(0x00018000);               // a tie between 0x0001 and 0x0002
        assertEquals(Float.intBitsToFloat(0x00020000), bf16(tiny));
        assertEquals(Float.intBitsToFloat(0x00010000), bf16(Float.intBitsToFloat(0x00017FFF)));
        assertEquals(0f, bf16(Float.intBitsToFloat(0x00007FFF)));
    }

    @Test
    void convertsBetweenEveryPairOfDtypes() {
        try (Allocator a = Allocator.root("test", 1 << 20)) {
            double[] values = {-300.5, -128, -2.5, -0.5, 0, 0.5, 1.5, 2.5, 100.25, 255, 300};
            Tensor source = Convert.fromDoubles(values, DType.FLOAT32, Shape.of(values.length), a);
            assertArrayEquals(new int[] {-128, -128, -2, 0, 0, 0, 2, 2, 100, 127, 127},
                    Convert.toIntArray(Convert.to(source, DType.INT8, a)));
            assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 2, 2, 100, 255, 255},
                    Convert.toIntArray(Convert.to(source, DType.UINT8, a)));
            assertArrayEquals(new int[] {-300, -128, -2, 0, 0, 0, 2, 2, 100, 255, 300},
                    Convert.toIntArray(Convert.to(source, DType.INT32, a)));
            float[] viaBf16 = Convert.toFloatArray(Convert.to(source, DType.BFLOAT16, a));
            assertEquals(-300f, viaBf16[0]);                          // 300.5 needs more than 8 bits
            assertEquals(100f, viaBf16[8]);                           // 100.25 ties 100 and 100.5: even wins
            for (DType from : DType.values()) {
                for (DType to : DType.values()) {
                    Tensor small = Convert.fromDoubles(new double[] {0, 1, 2, 3, 4, 5}, from, Shape.of(2, 3), a);
                    Tensor converted = Convert.to(small.transpose(0, 1), to, a);
                    assertArrayEquals(new double[] {0, 3, 1, 4, 2, 5}, Convert.toDoubleArray(converted), 0.0,
                            from + " -> " + to);
                }
            }
        }
    }

    @Test
    void integerConversionsOfNanGiveZero() {
        try (Allocator a = Allocator.root("test", 1 << 10)) {
            Tensor nan = Convert.fromFloats(new float[] {Float.NaN}, Shape.of(1), a);
            assertArrayEquals(new int[] {0}, Convert.toIntArray(Convert.to(nan, DType.INT8, a)));
        }
    }

    @Test
    void theFastBfloat16PathRoundsExactlyLikeTheElementwiseOne() {
        try (Allocator a = Allocator.root("t", 1 << 20)) {
            float[] v = new float[2000];
            java.util.SplittableRandom r = new java.util.SplittableRandom(5);
            for (int i = 0; i < v.length; i++) {
                v[i] = Float.intBitsToFloat(r.nextInt());
            }
            v[0] = Float.NaN;
            v[1] = Float.POSITIVE_INFINITY;
            v[2] = Float.intBitsToFloat(0x3f808000);   // a tie: rounds to even (down)
            v[3] = Float.intBitsToFloat(0x3f818000);   // a tie: rounds to even (up)
            v[4] = -0f;
            Tensor x = Convert.fromFloats(v, Shape.of(2, 1000), a);
            Tensor fast = Convert.to(x, DType.BFLOAT16, a);                          // contiguous: one tight loop
            Tensor slow = Convert.to(x.transpose(0, 1), DType.BFLOAT16, a).transpose(0, 1); // strided: per element
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 1000; j++) {
                    assertEquals(Float.floatToRawIntBits(slow.getFloat(i, j)), Float.floatToRawIntBits(fast.getFloat(i, j)),
                            "element " + i + "," + j);
                }
            }
            assertEquals(1.0f, fast.getFloat(0, 2));
            assertEquals(Float.intBitsToFloat(0x3f820000), fast.getFloat(0, 3));
        }
    }

    @Test
    void dtypesHaveStableNamesAndCodes() {
        for (DType t : DType.values()) {
            assertEquals(t, DType.fromName(t.toString()));
            assertEquals(t, DType.fromCode(t.code()));
        }
        assertEquals(6, DType.FLOAT64.code());
        assertEquals("unknown dtype 'float16'; expected one of float32, bfloat16, int8, uint8, int32, float64",
                assertThrows(IllegalArgumentException.class, () -> DType.fromName("float16")).getMessage());
    }
}
