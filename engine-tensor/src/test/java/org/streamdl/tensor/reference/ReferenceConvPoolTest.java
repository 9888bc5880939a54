package org.streamdl.tensor.reference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
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
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.Conv2dSpec;
import org.streamdl.tensor.spi.Pool2dPlan;
import org.streamdl.tensor.spi.Pool2dSpec;
import org.streamdl.tensor.testing.Tolerance;

class ReferenceConvPoolTest {
    private Allocator a;
    private ReferenceBackend backend;

    @BeforeEach
    void open() {
        a = Allocator.root("test", 64 << 20);
        backend = ReferenceBackend.create(1);
    }

    @AfterEach
    void close() {
        backend.close();
        a.close();
    }

    private Tensor random(Shape s, long seed) {
        Tensor t = a.allocate(DType.FLOAT32, s);
        RandomFill.uniform(t, -1, 1, new Rng(seed));
        return t;
    }

    /** Direct convolution in double, straight from the definition. */
    private static double[] naiveConv(Conv2dSpec s, float[] x, float[] w, float[] b) {
        int n = (int) s.batchSize(), c = (int) s.inChannels(), h = (int) s.inputShape().dim(2), wd = (int) s.inputShape().dim(3);
        int oc = (int) s.outChannels(), kh = (int) s.kernelH(), kw = (int) s.kernelW(), oh = (int) s.outH(), ow = (int) s.outW();
        int g = (int) s.groups(), cg = c / g, ocg = oc / g;
        double[] y = new double[n * oc * oh * ow];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < oc; o++) {
                int group = o / ocg;
                for (int yy = 0; yy < oh; yy++) {
                    for (int xx = 0; xx < ow; xx++) {
                        double sum = b == null ? 0 : b[o];
                        for (int ci = 0; ci < cg; ci++) {
                            for (int p = 0; p < kh; p++) {
                                for (int q = 0; q < kw; q++) {
                                    int iy = (int) (yy * s.strideH() - s.padH() + p * s.dilationH());
                                    int ix = (int) (xx * s.strideW() - s.padW() + q * s.dilationW());
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        sum += (double) x[((i * c + group * cg + ci) * h + iy) * wd + ix]
                                                * w[((o * cg + ci) * kh + p) * kw + q];
                                    }
                                }
                            }
                        }
                        y[((i * oc + o) * oh + yy) * ow + xx] = s.relu() ? Math.max(sum, 0) : sum;
                    }
                }
            }
        }
        return y;
    }

    private static double dot(float[] u, float[] v) {
        double s = 0;
        for (int i = 0; i < u.length; i++) {
            s += (double) u[i] * v[i];
        }
        return s;
    }

    @ParameterizedTest
    @CsvSource({
            // n, c, h, w, oc, kh, kw, stride, pad, dilation, groups
            "2, 1, 28, 28, 6, 5, 5, 1, 2, 1, 1",     // LeNet conv1
            "3, 6, 14, 14, 16, 5, 5, 1, 0, 1, 1",    // LeNet conv2
            "1, 4, 9, 7, 6, 3, 3, 2, 1, 1, 2",
            "2, 3, 8, 8, 3, 3, 2, 1, 2, 2, 3",       // depthwise, dilated, rectangular kernel
            "1, 2, 5, 5, 4, 1, 1, 1, 0, 1, 1"})
    void forwardMatchesTheDefinitionAndBackwardIsItsAdjoint(int n, int c, int h, int w, int oc, int kh, int kw,
                                                            int stride, int pad, int dilation, int groups) {
        Conv2dSpec spec = Conv2dSpec.of(Shape.of(n, c, h, w), oc, kh, kw).withStride(stride, stride)
                .withPadding(pad, pad).withDilation(dilation, dilation).withGroups(groups);
        Tensor x = random(spec.inputShape(), 1);
        Tensor wt = random(spec.weightShape(), 2);
        Tensor b = random(spec.biasShape(), 3);
        Tensor y = a.allocate(DType.FLOAT32, spec.outputShape());
        try (Conv2dPlan plan = backend.planConv2d(spec, a).orElseThrow()) {
            plan.forward(x, wt, b, y);
            assertClose(naiveConv(spec, Convert.toFloatArray(x), Convert.toFloatArray(wt), Convert.toFloatArray(b)), y,
                    Tolerance.rtolAtol(1e-5, 1e-5));

            // for the linear map x ↦ conv(x, w): <dy, conv(x, w)> = <backwardData(dy), x> = <backwardWeights(x, dy), w>
            Tensor dy = random(spec.outputShape(), 4);
            Tensor dx = a.allocate(DType.FLOAT32, spec.inputShape());
            Tensor dw = a.allocate(DType.FLOAT32, spec.weightShape());
            Tensor db = a.allocate(DType.FLOAT32, spec.biasShape());
            plan.backwardData(dy, wt, dx);
            plan.backwardWeights(x, dy, dw, db);
            double[] noBias = naiveConv(spec, Convert.toFloatArray(x), Convert.toFloatArray(wt), null);
            double lhs = 0;
            float[] dyv = Convert.toFloatArray(dy);
            for (int i = 0; i < noBias.length; i++) {
                lhs += dyv[i] * noBias[i];
            }
            assertEquals(lhs, dot(Convert.toFloatArray(dx), Convert.toFloatArray(x)), 1e-4 * (1 + Math.abs(lhs)));
            assertEquals(lhs, dot(Convert.toFloatArray(dw), Convert.toFloatArray(wt)), 1e-4 * (1 + Math.abs(lhs)));
            double[] expectedDb = new double[oc];
            int positions = (int) (spec.outH() * spec.outW());
            for (int i = 0; i < dyv.length; i++) {
                expectedDb[(i / positions) % oc] += dyv[i];
            }
            assertClose(expectedDb, db, Tolerance.rtolAtol(1e-5, 1e-5));
        }
    }

    @Test
    void fusedReluClampsTheOutput() {
        Conv2dSpec spec = Conv2dSpec.of(Shape.of(2, 3, 6, 6), 4, 3, 3).withPadding(1, 1).withRelu(true);
        Tensor x = random(spec.inputShape(), 5);
        Tensor wt = random(spec.weightShape(), 6);
        Tensor b = random(spec.biasShape(), 7);
        Tensor y = a.allocate(DType.FLOAT32, spec.outputShape());
        try (Conv2dPlan plan = backend.planConv2d(spec, a).orElseThrow()) {
            plan.forward(x, wt, b, y);
        }
        assertClose(naiveConv(spec, Convert.toFloatArray(x), Convert.toFloatArray(wt), Convert.toFloatArray(b)), y,
                Tolerance.rtolAtol(1e-5, 1e-5));
    }

    @Test
    void specsRefuseKernelsThatDoNotFitAndPrintReadably() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Conv2dSpec.of(Shape.of(1, 1, 4, 4), 2, 5, 5));
        assertEquals("conv2d: a 5x5 kernel (dilation 1x1, padding 0x0) does not fit input (1, 1, 4, 4)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Conv2dSpec.of(Shape.of(1, 3, 8, 8), 4, 3, 3).withGroups(2));
        assertEquals("conv2d (128, 1, 28, 28) 1→6 5x5 pad 2 +relu",
                Conv2dSpec.of(Shape.of(128, 1, 28, 28), 6, 5, 5).withPadding(2, 2).withRelu(true).toString());
        IllegalArgumentException input = assertThrows(IllegalArgumentException.class,
                () -> Conv2dSpec.of(Shape.of(128, 784), 6, 5, 5));
        assertEquals("conv2d: expected input (N, C, H, W) but got (128, 784)", input.getMessage());
    }

    @Test
    void maxPoolPicksTheLargestAndRoutesGradientsToIt() {
        Tensor x = Convert.fromFloats(new float[] {
                1, 2, 5, 3,
                4, 0, 1, 1,
                7, 7, 2, 9,
                6, 7, 3, 8}, Shape.of(1, 1, 4, 4), a);
        Pool2dSpec spec = Pool2dSpec.of(Pool2dSpec.Kind.MAX, x.shape(), 2, 2);
        try (Pool2dPlan plan = backend.planPool2d(spec, a).orElseThrow()) {
            Tensor y = a.allocate(DType.FLOAT32, spec.outputShape());
            Tensor ws = a.allocate(DType.UINT8, plan.workspaceBytes());
            plan.forward(x, y, ws);
            assertArrayEquals(new float[] {4, 5, 7, 9}, Convert.toFloatArray(y));
            Tensor dx = a.allocate(DType.FLOAT32, x.shape());
            plan.backward(Convert.fromFloats(new float[] {10, 20, 30, 40}, spec.outputShape(), a), ws, dx);
            assertArrayEquals(new float[] {0, 0, 20, 0, 10, 0, 0, 0, 30, 0, 0, 40, 0, 0, 0, 0}, Convert.toFloatArray(dx));
        }
    }

    @Test
    void avgPoolCountsPaddingLikePytorchByDefault() {
        Tensor x = Convert.fromFloats(new float[] {1, 2, 3, 4}, Shape.of(1, 1, 2, 2), a);
        Pool2dSpec spec = Pool2dSpec.of(Pool2dSpec.Kind.AVG, x.shape(), 2, 2).withStride(1, 1).withPadding(1, 1);
        try (Pool2dPlan plan = backend.planPool2d(spec, a).orElseThrow()) {
            Tensor y = a.allocate(DType.FLOAT32, spec.outputShape());
            plan.forward(x, y, null);
            assertArrayEquals(new float[] {.25f, .75f, .5f, 1f, 2.5f, 1.5f, .75f, 1.75f, 1f}, Convert.toFloatArray(y));
        }
        Pool2dSpec exclude = spec.withCountIncludePad(false);
        try (Pool2dPlan plan = backend.planPool2d(exclude, a).orElseThrow()) {
            Tensor y = a.allocate(DType.FLOAT32, exclude.outputShape());
            plan.forward(x, y, null);
            assertArrayEquals(new float[] {1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4}, Convert.toFloatArray(y));
            // adjoint: <dy, avgpool(x)> = <backward(dy), x>
            Tensor dy = random(exclude.outputShape(), 9);
            Tensor dx = a.allocate(DType.FLOAT32, x.shape());
            plan.backward(dy, null, dx);
            assertEquals(dot(Convert.toFloatArray(dy), Convert.toFloatArray(y)),
                    dot(Convert.toFloatArray(dx), Convert.toFloatArray(x)), 1e-5);
        }
    }
}
