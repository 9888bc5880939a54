package org.streamdl.dnn.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.streamdl.tensor.testing.TensorAssertions.assertClose;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;
import org.streamdl.tensor.ops.RandomFill;
import org.streamdl.tensor.reference.ReferenceBackend;
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.Conv2dSpec;
import org.streamdl.tensor.spi.MatmulPlan;
import org.streamdl.tensor.spi.MatmulSpec;
import org.streamdl.tensor.spi.Pool2dPlan;
import org.streamdl.tensor.spi.Pool2dSpec;
import org.streamdl.tensor.testing.Tolerance;

/** Every oneDNN plan against the reference backend, the oracle, on the same inputs. */
class DnnlBackendTest {
    private static final Tolerance F32 = Tolerance.rtolAtol(1e-4, 1e-5);
    private Allocator a;
    private DnnlBackend dnnl;

    @Test
    void theBuildRunsItsTestsOnOneDnnWithoutAFallback() {
        assertTrue(Boolean.getBoolean(DnnlBackend.REQUIRED_PROPERTY), "the build sets -D" + DnnlBackend.REQUIRED_PROPERTY);
        assertTrue(DnnlBackend.isAvailable(), "oneDNN loaded");
    }
    private ReferenceBackend reference;

    @BeforeEach
    void open() {
        assertTrue(DnnlBackend.isAvailable(), "oneDNN must load on the build machine (linux-x86_64)");
        a = Allocator.root("test", 256 << 20);
        dnnl = DnnlBackend.create(2).orElseThrow();
        reference = ReferenceBackend.create(1);
    }

    @AfterEach
    void close() {
        dnnl.close();
        reference.close();
        a.close();
    }

    private Tensor random(Shape s, long seed) {
        Tensor t = a.allocate(DType.FLOAT32, s);
        RandomFill.uniform(t, -1, 1, new Rng(seed));
        return t;
    }

    private void compareMatmul(MatmulSpec spec) {
        Tensor x = random(spec.aShape(), 1);
        Tensor y = random(spec.bShape(), 2);
        Tensor expected = random(spec.cShape(), 3);
        Tensor actual = a.allocate(DType.FLOAT32, spec.cShape());
        org.streamdl.tensor.ops.Convert.copy(expected, actual);
        try (MatmulPlan r = reference.planMatmul(spec, a).orElseThrow(); MatmulPlan d = dnnl.planMatmul(spec, a).orElseThrow()) {
            r.execute(x, y, expected);
            d.execute(x, y, actual);
        }
        assertClose(expected, actual, F32);
    }

    @ParameterizedTest
    @CsvSource({"128, 400, 120, false, false", "128, 400, 120, false, true", "17, 31, 13, true, false",
            "64, 10, 84, true, true", "1, 784, 512, false, true"})
    void matmulMatchesTheReference(int m, int k, int n, boolean ta, boolean tb) {
        Shape aShape = ta ? Shape.of(k, m) : Shape.of(m, k);
        Shape bShape = tb ? Shape.of(n, k) : Shape.of(k, n);
        compareMatmul(MatmulSpec.of(aShape, bShape, ta, tb));
        compareMatmul(MatmulSpec.of(aShape, bShape, ta, tb).withScale(0.5f, 1f));
    }

    @Test
    void biasAndReluFuseIntoTheProduct() {
        MatmulSpec spec = MatmulSpec.of(Shape.of(64, 30), Shape.of(20, 30), false, true).withBias(true).withRelu(true);
        Tensor x = random(spec.aShape(), 11);
        Tensor w = random(spec.bShape(), 12);
        Tensor b = random(spec.biasShape(), 13);
        Tensor expected = a.allocate(DType.FLOAT32, spec.cShape());
        Tensor actual = a.allocate(DType.FLOAT32, spec.cShape());
        try (MatmulPlan r = reference.planMatmul(spec, a).orElseThrow(); MatmulPlan d = dnnl.planMatmul(spec, a).orElseThrow()) {
            r.execute(x, w, b, expected);
            d.execute(x, w, b, actual);
            assertThrows(IllegalArgumentException.class, () -> d.execute(x, w, actual));
        }
        assertClose(expected, actual, F32);
        float[] values = org.streamdl.tensor.ops.Convert.toFloatArray(expected);
        float min = Float.MAX_VALUE;
        int zeros = 0;
        for (float v : values) {
            min = Math.min(min, v);
            zeros += v == 0 ? 1 : 0;
        }
        assertEquals(0f, min);
        assertTrue(zeros > 0 && zeros < values.length, "ReLU must clamp some but not all outputs");
    }

    @Test
    void batchedMatmulBroadcastsLikeTheReference() {
        compareMatmul(MatmulSpec.of(Shape.of(3, 4, 5), Shape.of(5, 6)));
        compareMatmul(MatmulSpec.of(Shape.of(2, 1, 4, 5), Shape.of(3, 6, 5), false, true));
    }

    @Test
    void stridedViewsFallBackToTheReferenceKernel() {
        Tensor big = random(Shape.of(8, 10), 4);
        Tensor x = big.narrow(1, 2, 6);                     // (8, 6), not contiguous
        Tensor y = random(Shape.of(6, 3), 5);
        MatmulSpec spec = MatmulSpec.of(x.shape(), y.shape());
        Tensor expected = a.allocate(DType.FLOAT32, spec.cShape());
        Tensor actual = a.allocate(DType.FLOAT32, spec.cShape());
        try (MatmulPlan r = reference.planMatmul(spec, a).orElseThrow(); MatmulPlan d = dnnl.planMatmul(spec, a).orElseThrow()) {
            r.execute(x, y, expected);
            d.execute(x, y, actual);
        }
        assertClose(expected, actual, F32);
    }

    @Test
    void bindsTensorsAtAnOffsetIntoTheirStorage() {
        Tensor storage = random(Shape.of(3, 4, 5), 6);
        Tensor x = storage.select(0, 2);                     // contiguous, offset 40 elements
        Tensor y = random(Shape.of(5, 2), 7);
        MatmulSpec spec = MatmulSpec.of(x.shape(), y.shape());
        Tensor expected = a.allocate(DType.FLOAT32, spec.cShape());
        Tensor actual = a.allocate(DType.FLOAT32, spec.cShape());
        try (MatmulPlan r = reference.planMatmul(spec, a).orElseThrow(); MatmulPlan d = dnnl.planMatmul(spec, a).orElseThrow()) {
            r.execute(x, y, expected);
            d.execute(x, y, actual);
        }
        assertClose(expected, actual, F32);
    }

    @ParameterizedTest
    @CsvSource({
            "4, 1, 28, 28, 6, 5, 5, 1, 2, 1, 1, true",
            "3, 6, 14, 14, 16, 5, 5, 1, 0, 1, 1, false",
            "2, 4, 9, 7, 6, 3, 3, 2, 1, 1, 2, false",
            "2, 3, 8, 8, 3, 3, 2, 1, 2, 2, 3, true"})
    void convolutionMatchesTheReferenceInAllThreePasses(int n, int c, int h, int w, int oc, int kh, int kw,
                                                        int stride, int pad, int dilation, int groups, boolean relu) {
        Conv2dSpec spec = Conv2dSpec.of(Shape.of(n, c, h, w), oc, kh, kw).withStride(stride, stride)
                .withPadding(pad, pad).withDilation(dilation, dilation).withGroups(groups).withRelu(relu);
        Tensor x = random(spec.inputShape(), 1);
        Tensor wt = random(spec.weightShape(), 2);
        Tensor b = random(spec.biasShape(), 3);
        Tensor dy = random(spec.outputShape(), 4);
        try (Conv2dPlan r = reference.planConv2d(spec, a).orElseThrow(); Conv2dPlan d = dnnl.planConv2d(spec, a).orElseThrow()) {
            Tensor[] ref = run(r, spec, x, wt, b, dy);
            Tensor[] got = run(d, spec, x, wt, b, dy);
            for (int i = 0; i < ref.length; i++) {
                assertClose(ref[i], got[i], F32);
            }
        }
    }

    private Tensor[] run(Conv2dPlan plan, Conv2dSpec spec, Tensor x, Tensor w, Tensor b, Tensor dy) {
        Tensor y = a.allocate(DType.FLOAT32, spec.outputShape());
        Tensor dx = a.allocate(DType.FLOAT32, spec.inputShape());
        Tensor dw = a.allocate(DType.FLOAT32, spec.weightShape());
        Tensor db = a.allocate(DType.FLOAT32, spec.biasShape());
        plan.forward(x, w, b, y);
        plan.backwardData(dy, w, dx);
        plan.backwardWeights(x, dy, dw, db);
        return new Tensor[] {y, dx, dw, db};
    }

    @ParameterizedTest
    @CsvSource({"4, 1, 28, 28, 6, 5, 2, true, MAX", "3, 6, 14, 14, 16, 5, 0, true, MAX", "2, 3, 9, 9, 4, 3, 1, false, AVG"})
    void convPoolBlockMatchesTheReference(int n, int c, int h, int w, int oc, int k, int pad, boolean relu,
                                          Pool2dSpec.Kind kind) {
        org.streamdl.tensor.spi.ConvPoolSpec spec = org.streamdl.tensor.spi.ConvPoolSpec.of(
                Conv2dSpec.of(Shape.of(n, c, h, w), oc, k, k).withPadding(pad, pad).withRelu(relu), kind, 2, 2);
        Tensor x = random(spec.inputShape(), 1);
        Tensor wt = random(spec.conv().weightShape(), 2);
        Tensor b = random(spec.conv().biasShape(), 3);
        Tensor dy = random(spec.outputShape(), 4);
        try (org.streamdl.tensor.spi.ConvPoolPlan r = reference.planConvPool(spec, a).orElseThrow();
             org.streamdl.tensor.spi.ConvPoolPlan d = dnnl.planConvPool(spec, a).orElseThrow()) {
            Tensor[] expected = runBlock(r, spec, x, wt, b, dy);
            Tensor[] actual = runBlock(d, spec, x, wt, b, dy);
            for (int i = 0; i < expected.length; i++) {
                assertClose(expected[i], actual[i], F32);
            }
            Tensor inference = a.allocate(DType.FLOAT32, spec.outputShape());
            d.forward(x, wt, b, inference, null);
            assertClose(expected[0], inference, F32);
        }
    }

    @Test
    void weightsReorderedOnceAreReorderedAgainWhenTheyChange() {
        org.streamdl.tensor.spi.ConvPoolSpec block = org.streamdl.tensor.spi.ConvPoolSpec.of(
                Conv2dSpec.of(Shape.of(1, 1, 12, 12), 6, 5, 5).withPadding(2, 2).withRelu(true), Pool2dSpec.Kind.MAX, 2, 2);
        Conv2dSpec conv = Conv2dSpec.of(Shape.of(1, 6, 6, 6), 8, 3, 3);
        Tensor x = random(block.inputShape(), 1);
        Tensor wt = random(block.conv().weightShape(), 2);
        Tensor b = random(block.conv().biasShape(), 3);
        Tensor x2 = random(conv.inputShape(), 4);
        Tensor w2 = random(conv.weightShape(), 5);
        Tensor b2 = random(conv.biasShape(), 6);
        try (org.streamdl.tensor.spi.ConvPoolPlan r = reference.planConvPool(block, a).orElseThrow();
             org.streamdl.tensor.spi.ConvPoolPlan d = dnnl.planConvPool(block, a).orElseThrow();
             Conv2dPlan rc = reference.planConv2d(conv, a).orElseThrow();
             Conv2dPlan dc = dnnl.planConv2d(conv, a).orElseThrow()) {
            for (int round = 0; round < 3; round++) {
                Tensor expected = a.allocate(DType.FLOAT32, block.outputShape());
                Tensor actual = a.allocate(DType.FLOAT32, block.outputShape());
                r.forward(x, wt, b, expected, null);
                d.forward(x, wt, b, actual, null);
                d.forward(x, wt, b, actual, null); // the second call reuses the reordered weights
                assertClose(expected, actual, F32);
                Tensor expected2 = a.allocate(DType.FLOAT32, conv.outputShape());
                Tensor actual2 = a.allocate(DType.FLOAT32, conv.outputShape());
                rc.forward(x2, w2, b2, expected2);
                dc.forward(x2, w2, b2, actual2);
                dc.forward(x2, w2, b2, actual2);
                assertClose(expected2, actual2, F32);
                // an optimizer step changes one weight in place: the next call must see it
                wt.set(wt.getDouble(round, 0, 2, 2) + 0.5, round, 0, 2, 2);
                w2.set(w2.getDouble(round, round, 1, 1) - 0.5, round, round, 1, 1);
            }
        }
    }

    @Test
    void packedWeightsFollowEveryChangeIncludingAReturnToEarlierValues() {
        MatmulSpec spec = MatmulSpec.of(Shape.of(8, 64), Shape.of(32, 64), false, true).withBias(true).withWeightsB(true);
        Tensor x = random(spec.aShape(), 1);
        Tensor w = random(spec.bShape(), 2);
        Tensor b = random(spec.biasShape(), 3);
        double original = w.getDouble(0, 0);
        try (MatmulPlan r = reference.planMatmul(spec, a).orElseThrow(); MatmulPlan d = dnnl.planMatmul(spec, a).orElseThrow()) {
            // unchanged, changed (training steps), back to the first values, then unchanged again
            double[] firstWeight = {original, original, original + 1, original + 2, original, original, original};
            for (double value : firstWeight) {
                w.set(value, 0, 0);
                Tensor expected = a.allocate(DType.FLOAT32, spec.cShape());
                Tensor actual = a.allocate(DType.FLOAT32, spec.cShape());
                r.execute(x, w, b, expected);
                d.execute(x, w, b, actual);
                assertClose(expected, actual, F32);
            }
        }
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void bfloat16MatmulAccumulatesInFloat32LikeTheReference(boolean floatInput) {
        MatmulSpec spec = MatmulSpec.of(Shape.of(37, 96), Shape.of(24, 96), false, true).withBias(true).withRelu(true)
                .withWeightsB(true).withDType(DType.BFLOAT16).withFloatInput(floatInput);
        // a float32 input is rounded by the plan; ties and values between bfloat16 steps test the rounding
        Tensor x = floatInput ? random(spec.aShape(), 1) : Convert.to(random(spec.aShape(), 1), DType.BFLOAT16, a);
        Tensor w = Convert.to(random(spec.bShape(), 2), DType.BFLOAT16, a);
        Tensor b = random(spec.biasShape(), 3);
        try (MatmulPlan r = reference.planMatmul(spec, a).orElseThrow(); MatmulPlan d = dnnl.planMatmul(spec, a).orElseThrow()) {
            Tensor expected = a.allocate(DType.FLOAT32, spec.cShape());
            Tensor actual = a.allocate(DType.FLOAT32, spec.cShape());
            r.execute(x, w, b, expected);
            d.execute(x, w, b, actual);
            assertClose(expected, actual, F32);
            DType wrong = floatInput ? DType.BFLOAT16 : DType.FLOAT32;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> d.execute(Convert.to(x, wrong, a), w, b, actual));
            assertTrue(e.getMessage().contains("operand a has dtype " + wrong + " but the plan expects " + spec.aType()),
                    e.getMessage());
        }
    }

    @Test
    void packedWeightsFollowInPlaceChanges() {
        MatmulSpec spec = MatmulSpec.of(Shape.of(5, 40), Shape.of(30, 40), false, true).withBias(true).withRelu(true)
                .withWeightsB(true);
        Tensor x = random(spec.aShape(), 1);
        Tensor w = random(spec.bShape(), 2);
        Tensor b = random(spec.biasShape(), 3);
        try (MatmulPlan r = reference.planMatmul(spec, a).orElseThrow(); MatmulPlan d = dnnl.planMatmul(spec, a).orElseThrow()) {
            for (int round = 0; round < 3; round++) {
                Tensor expected = a.allocate(DType.FLOAT32, spec.cShape());
                Tensor actual = a.allocate(DType.FLOAT32, spec.cShape());
                r.execute(x, w, b, expected);
                d.execute(x, w, b, actual);
                d.execute(x, w, b, actual);
                assertClose(expected, actual, F32);
                w.set(w.getDouble(round, round) + 1, round, round);
            }
        }
    }

    private Tensor codes(DType t, long seed, long... dims) {
        Tensor x = a.allocate(t, dims);
        Tensor flat = x.reshape(x.elementCount());
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (long i = 0; i < flat.elementCount(); i++) {
            flat.set(t == DType.UINT8 ? r.nextInt(256) : r.nextInt(-127, 128), i);
        }
        return x;
    }

    /**
     * A float input is quantized by a scaled reorder when small and by a division when large
     * ({@link InputQuantization}); {@code large} picks a batch past the division's threshold.
     */
    @ParameterizedTest
    @CsvSource({"UINT8, FLOAT32, true, true, false, false", "UINT8, UINT8, true, true, false, false",
            "INT8, INT8, true, false, false, false", "INT8, FLOAT32, false, false, false, false",
            "UINT8, INT8, false, true, false, false", "UINT8, UINT8, true, true, true, false",
            "INT8, FLOAT32, true, false, true, false", "UINT8, UINT8, true, true, true, true",
            "INT8, FLOAT32, true, false, true, true"})
    void int8MatmulMatchesTheReference(DType activation, DType output, boolean bias, boolean relu, boolean floatInput,
                                       boolean large) {
        long m = large ? InputQuantization.DIVIDE_FROM / 70 + 1 : 33;
        org.streamdl.tensor.spi.QuantizedMatmulSpec spec = org.streamdl.tensor.spi.QuantizedMatmulSpec
                .of(m, 70, 19, activation).withOutput(output).withBias(bias).withRelu(relu).withFloatInput(floatInput);
        Tensor x = floatInput ? random(Shape.of(m, 70), 1) : codes(activation, 1, m, 70);
        if (floatInput && activation == DType.UINT8) {
            x = org.streamdl.tensor.ops.Elementwise.abs(x, a);
        }
        Tensor w = codes(DType.INT8, 2, 19, 70);
        Tensor scales = positiveScales(19, 3);
        Tensor b = bias ? random(Shape.of(19), 4) : null;
        float aScale = 0.02f;
        float outScale = 0.05f;
        try (org.streamdl.tensor.spi.QuantizedMatmulPlan r = reference.planQuantizedMatmul(spec, a).orElseThrow();
             org.streamdl.tensor.spi.QuantizedMatmulPlan d = dnnl.planQuantizedMatmul(spec, a).orElseThrow()) {
            Tensor expected = a.allocate(output, spec.cShape());
            Tensor actual = a.allocate(output, spec.cShape());
            r.execute(x, aScale, w, scales, b, outScale, expected);
            d.execute(x, aScale, w, scales, b, outScale, actual);
            d.execute(x, aScale, w, scales, b, outScale, actual); // packed weights reused
            if (output == DType.FLOAT32) {
                assertClose(expected, actual, Tolerance.rtolAtol(1e-5, 1e-4));
            } else {
                assertWithinOneCode(expected, actual);
            }
            Tensor other = codes(DType.INT8, 7, 19, 70);   // another weights tensor is packed anew
            r.execute(x, aScale, other, scales, b, outScale, expected);
            d.execute(x, aScale, other, scales, b, outScale, actual);
            if (output == DType.FLOAT32) {
                assertClose(expected, actual, Tolerance.rtolAtol(1e-5, 1e-4));
            } else {
                assertWithinOneCode(expected, actual);
            }
        }
    }

    /** {@code n} weight scales between 0.001 and about 0.03. */
    private Tensor positiveScales(long n, long seed) {
        Tensor scales = random(Shape.of(n), seed);
        for (long i = 0; i < n; i++) {
            scales.set(0.001 + Math.abs(scales.getDouble(i)) * 0.01, i);
        }
        return scales;
    }

    /** Codes equal but for one step, where float rounding order moves a value across a .5 boundary; returns the expected codes. */
    private int[] assertWithinOneCode(Tensor expected, Tensor actual) {
        int[] e = Convert.toIntArray(Convert.to(expected, DType.INT32, a));
        int[] g = Convert.toIntArray(Convert.to(actual, DType.INT32, a));
        for (int i = 0; i < e.length; i++) {
            assertTrue(Math.abs(e[i] - g[i]) <= 1, "element " + i + ": " + e[i] + " vs " + g[i]);
        }
        return e;
    }

    /** {@code large}: a batch past the threshold where a float input is divided, then reordered as codes ({@link InputQuantization}). */
    @ParameterizedTest
    @CsvSource({
            // activation, output, float input, relu, pool, groups, stride, padding, large
            "UINT8, UINT8, true, true, 2, 1, 1, 2, false",     // LeNet's first block: pixels in, codes out, pooled
            "UINT8, UINT8, false, true, 2, 1, 1, 0, false",    // LeNet's second block
            "UINT8, FLOAT32, false, true, 0, 1, 1, 1, false",
            "INT8, INT8, false, false, 0, 3, 2, 1, false",
            "INT8, FLOAT32, true, false, 3, 1, 1, 0, false",
            "UINT8, INT8, false, false, 2, 3, 1, 0, false",
            "UINT8, UINT8, true, true, 2, 1, 1, 2, true",
            "INT8, FLOAT32, true, false, 0, 3, 2, 1, true"})
    void int8ConvolutionMatchesTheReference(DType activation, DType output, boolean floatInput, boolean relu, int pool,
                                            int groups, int stride, int padding, boolean large) {
        long batch = large ? InputQuantization.DIVIDE_AND_REORDER_FROM / (6 * 13 * 12) + 1 : 3;
        org.streamdl.tensor.spi.Conv2dSpec conv = org.streamdl.tensor.spi.Conv2dSpec.of(Shape.of(batch, 6, 13, 12), 9, 3, 3)
                .withGroups(groups).withStride(stride, stride).withPadding(padding, padding).withRelu(relu);
        org.streamdl.tensor.spi.QuantizedConvSpec spec = org.streamdl.tensor.spi.QuantizedConvSpec.of(conv, activation)
                .withOutput(output).withFloatInput(floatInput).withMaxPool(pool, pool);
        Tensor x = floatInput ? random(spec.inputShape(), 1) : codes(activation, 1, spec.inputShape().dims());
        if (floatInput && activation == DType.UINT8) {
            x = org.streamdl.tensor.ops.Elementwise.abs(x, a);
        }
        Tensor w = codes(DType.INT8, 2, spec.weightShape().dims());
        Tensor scales = positiveScales(9, 3);
        Tensor b = random(Shape.of(9), 4);
        float xScale = floatInput ? 0.01f : 0.02f;
        float outScale = 0.05f;
        try (org.streamdl.tensor.spi.QuantizedConvPlan r = reference.planQuantizedConv(spec, a).orElseThrow();
             org.streamdl.tensor.spi.QuantizedConvPlan d = dnnl.planQuantizedConv(spec, a).orElseThrow()) {
            Tensor expected = a.allocate(output, spec.outputShape());
            Tensor actual = a.allocate(output, spec.outputShape());
            r.execute(x, xScale, w, scales, b, outScale, expected);
            d.execute(x, xScale, w, scales, b, outScale, actual);
            d.execute(x, xScale, w, scales, b, outScale, actual); // reordered weights reused
            if (output == DType.FLOAT32) {
                assertClose(expected, actual, Tolerance.rtolAtol(1e-5, 1e-4));
            } else {
                int[] e = assertWithinOneCode(expected, actual);
                int saturated = 0;
                for (int code : e) {
                    saturated += code == 255 || code == 127 || code == -128 ? 1 : 0;
                }
                assertTrue(saturated < e.length / 2, "scales chosen so most codes are in range: " + saturated + "/" + e.length);
            }
        }
    }

    private Tensor[] runBlock(org.streamdl.tensor.spi.ConvPoolPlan plan, org.streamdl.tensor.spi.ConvPoolSpec spec,
                              Tensor x, Tensor w, Tensor b, Tensor dy) {
        Tensor y = a.allocate(DType.FLOAT32, spec.outputShape());
        Tensor ws = a.allocate(DType.UINT8, plan.workspaceBytes());
        Tensor dx = a.allocate(DType.FLOAT32, spec.inputShape());
        Tensor dw = a.allocate(DType.FLOAT32, spec.conv().weightShape());
        Tensor db = a.allocate(DType.FLOAT32, spec.conv().biasShape());
        plan.forward(x, w, b, y, ws);
        plan.backward(x, w, y, dy, ws, dx, dw, db);
        return new Tensor[] {y, dx, dw, db};
    }

    @ParameterizedTest
    @CsvSource({"MAX, 2, 0, true", "AVG, 2, 0, true", "MAX, 1, 1, true", "AVG, 1, 1, false", "AVG, 1, 1, true"})
    void poolingMatchesTheReference(Pool2dSpec.Kind kind, int stride, int pad, boolean includePad) {
        Pool2dSpec spec = Pool2dSpec.of(kind, Shape.of(3, 4, 10, 10), 2, 2).withStride(stride, stride)
                .withPadding(pad, pad).withCountIncludePad(includePad);
        Tensor x = random(spec.inputShape(), 8);
        Tensor dy = random(spec.outputShape(), 9);
        try (Pool2dPlan r = reference.planPool2d(spec, a).orElseThrow(); Pool2dPlan d = dnnl.planPool2d(spec, a).orElseThrow()) {
            Tensor yr = a.allocate(DType.FLOAT32, spec.outputShape());
            Tensor yd = a.allocate(DType.FLOAT32, spec.outputShape());
            Tensor wr = a.allocate(DType.UINT8, Math.max(1, r.workspaceBytes()));
            Tensor wd = a.allocate(DType.UINT8, Math.max(1, d.workspaceBytes()));
            r.forward(x, yr, wr);
            d.forward(x, yd, wd);
            assertClose(yr, yd, F32);
            Tensor dxr = a.allocate(DType.FLOAT32, spec.inputShape());
            Tensor dxd = a.allocate(DType.FLOAT32, spec.inputShape());
            r.backward(dy, wr, dxr);
            d.backward(dy, wd, dxd);
            assertClose(dxr, dxd, F32);
            Tensor inference = a.allocate(DType.FLOAT32, spec.outputShape());
            d.forward(x, inference, null);
            assertClose(yr, inference, F32);
        }
    }

    @Test
    void eachBackendSetsTheOpenMpTeamOfTheThreadThatCallsIt() throws InterruptedException {
        assertTrue(OpenMpThreads.available(), "the OpenMP glue is built with g++ on linux-x86_64");
        MatmulSpec spec = MatmulSpec.of(Shape.of(256, 256), Shape.of(256, 256));   // above the parallel threshold
        Tensor x = random(spec.aShape(), 1);
        Tensor c = a.allocate(DType.FLOAT32, spec.cShape());
        MatmulSpec small = MatmulSpec.of(Shape.of(8, 8), Shape.of(8, 8));
        Tensor s = random(small.aShape(), 2);
        Tensor sc = a.allocate(DType.FLOAT32, small.cShape());
        try (DnnlBackend one = DnnlBackend.create(1).orElseThrow();
             MatmulPlan single = one.planMatmul(spec, a).orElseThrow();
             MatmulPlan pair = dnnl.planMatmul(spec, a).orElseThrow();
             MatmulPlan tiny = dnnl.planMatmul(small, a).orElseThrow()) {
            single.execute(x, x, c);
            assertEquals(1, OpenMpThreads.currentTeamSize());
            pair.execute(x, x, c);
            assertEquals(2, OpenMpThreads.currentTeamSize());
            Thread.sleep(OpenMpThreads.STICKY_NANOS / 1_000_000 + 2);
            tiny.execute(s, s, sc);
            assertEquals(1, OpenMpThreads.currentTeamSize(), "small primitives alone run on one thread");
        }
    }

    @Test
    void aSmallPrimitiveRightAfterAWideOneKeepsTheWideTeam() {
        OpenMpThreads policy = new OpenMpThreads(2);
        long t = 1_000_000_000L;
        assertEquals(1, policy.teamFor(1, t));
        assertEquals(2, policy.teamFor(2, t + 10));
        assertEquals(2, policy.teamFor(1, t + 20), "within the window after a wide primitive");
        assertEquals(2, policy.teamFor(1, t + 10 + OpenMpThreads.STICKY_NANOS - 1));
        assertEquals(1, policy.teamFor(1, t + 10 + OpenMpThreads.STICKY_NANOS + 1), "after the window");
        assertEquals(1, policy.teamFor(1, t + 10 + 2 * OpenMpThreads.STICKY_NANOS));
        assertEquals(4, new OpenMpThreads(4).teamFor(8, t), "never more than the backend's threads");
    }

    @Test
    void refusesWrongOperandsNamingThem() {
        MatmulSpec spec = MatmulSpec.of(Shape.of(2, 3), Shape.of(3, 4));
        try (MatmulPlan d = dnnl.planMatmul(spec, a).orElseThrow()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> d.execute(random(Shape.of(2, 3), 1), random(Shape.of(4, 3), 2), random(Shape.of(2, 4), 3)));
            assertEquals("matmul (2, 3)·(3, 4) float32: operand b has shape (4, 3) but the plan expects (3, 4)",
                    e.getMessage());
        }
        dnnl.close();
        assertThrows(IllegalStateException.class, () -> dnnl.planMatmul(spec, a));
    }
}
