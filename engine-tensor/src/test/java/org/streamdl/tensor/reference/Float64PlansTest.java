package org.streamdl.tensor.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;
import org.streamdl.tensor.ops.RandomFill;
import org.streamdl.tensor.spi.Conv2dSpec;
import org.streamdl.tensor.spi.MatmulSpec;
import org.streamdl.tensor.spi.Pool2dSpec;

/**
 * The float64 reference plans agree with the float32 reference kernels (to float32 rounding), and
 * keep double precision where float32 cannot.
 */
class Float64PlansTest {
    private final ReferenceBackend backend = ReferenceBackend.create(1);

    private static Tensor random(Allocator a, DType t, long seed, long... dims) {
        Tensor x = a.allocate(t, dims);
        RandomFill.uniform(x, -1, 1, new Rng(seed));
        return x;
    }

    private static void assertAgree(Tensor f32, Tensor f64, double tolerance) {
        float[] single = Convert.toFloatArray(f32);
        for (int i = 0; i < single.length; i++) {
            assertEquals(single[i], f64.reshape(f64.elementCount()).getDouble(i), tolerance, "element " + i);
        }
    }

    @Test
    void matmulWithBiasAndReluMatchesFloat32() {
        try (Allocator a = Allocator.root("t", 16L << 20)) {
            Tensor x = random(a, DType.FLOAT32, 1, 2, 5, 7);
            Tensor w = random(a, DType.FLOAT32, 2, 4, 7);
            Tensor b = random(a, DType.FLOAT32, 3, 4);
            MatmulSpec spec = MatmulSpec.of(x.shape(), w.shape(), false, true).withBias(true).withRelu(true);
            Tensor y32 = a.allocate(DType.FLOAT32, spec.cShape());
            backend.planMatmul(spec, a).orElseThrow().execute(x, w, b, y32);
            Tensor y64 = a.allocate(DType.FLOAT64, spec.cShape());
            backend.planMatmul(spec.withDType(DType.FLOAT64), a).orElseThrow().execute(
                    Convert.to(x, DType.FLOAT64, a), Convert.to(w, DType.FLOAT64, a), Convert.to(b, DType.FLOAT64, a), y64);
            assertAgree(y32, y64, 1e-5);
        }
    }

    @Test
    void float64KeepsPrecisionFloat32Loses() {
        try (Allocator a = Allocator.root("t", 1L << 20)) {
            Tensor x = a.allocate(DType.FLOAT64, 1, 2);
            x.set(1e8, 0, 0);
            x.set(1, 0, 1);
            Tensor ones = a.allocate(DType.FLOAT64, 2, 1);
            ones.set(1, 0, 0);
            ones.set(1, 1, 0);
            Tensor y = a.allocate(DType.FLOAT64, 1, 1);
            backend.planMatmul(MatmulSpec.of(x.shape(), ones.shape()).withDType(DType.FLOAT64), a).orElseThrow().execute(x, ones, y);
            assertEquals(100_000_001.0, y.getDouble(0, 0));
        }
    }

    @Test
    void convolutionAndItsGradientsMatchFloat32() {
        try (Allocator a = Allocator.root("t", 16L << 20)) {
            Conv2dSpec spec = Conv2dSpec.of(Shape.of(2, 4, 7, 6), 6, 3, 2).withStride(2, 1).withPadding(1, 1)
                    .withDilation(1, 2).withGroups(2).withRelu(true);
            Tensor x = random(a, DType.FLOAT32, 4, 2, 4, 7, 6);
            Tensor w = random(a, DType.FLOAT32, 5, spec.weightShape().dims());
            Tensor b = random(a, DType.FLOAT32, 6, spec.biasShape().dims());
            Tensor dy = random(a, DType.FLOAT32, 7, spec.outputShape().dims());
            var f32 = backend.planConv2d(spec, a).orElseThrow();
            var f64 = backend.planConv2d(spec.withDType(DType.FLOAT64), a).orElseThrow();
            Tensor y32 = a.allocate(DType.FLOAT32, spec.outputShape());
            Tensor y64 = a.allocate(DType.FLOAT64, spec.outputShape());
            f32.forward(x, w, b, y32);
            f64.forward(Convert.to(x, DType.FLOAT64, a), Convert.to(w, DType.FLOAT64, a), Convert.to(b, DType.FLOAT64, a), y64);
            assertAgree(y32, y64, 1e-5);
            Tensor dx32 = a.allocate(DType.FLOAT32, spec.inputShape());
            Tensor dx64 = a.allocate(DType.FLOAT64, spec.inputShape());
            f32.backwardData(dy, w, dx32);
            f64.backwardData(Convert.to(dy, DType.FLOAT64, a), Convert.to(w, DType.FLOAT64, a), dx64);
            assertAgree(dx32, dx64, 1e-5);
            Tensor dw32 = a.allocate(DType.FLOAT32, spec.weightShape());
            Tensor db32 = a.allocate(DType.FLOAT32, spec.biasShape());
            Tensor dw64 = a.allocate(DType.FLOAT64, spec.weightShape());
            Tensor db64 = a.allocate(DType.FLOAT64, spec.biasShape());
            f32.backwardWeights(x, dy, dw32, db32);
            f64.backwardWeights(Convert.to(x, DType.FLOAT64, a), Convert.to(dy, DType.FLOAT64, a), dw64, db64);
            assertAgree(dw32, dw64, 1e-5);
            assertAgree(db32, db64, 1e-5);
        }
    }

    @Test
    void poolingAndItsGradientMatchFloat32() {
        try (Allocator a = Allocator.root("t", 16L << 20)) {
            for (Pool2dSpec spec : new Pool2dSpec[] {
                    Pool2dSpec.of(Pool2dSpec.Kind.MAX, Shape.of(2, 3, 6, 5), 2, 2),
                    Pool2dSpec.of(Pool2dSpec.Kind.AVG, Shape.of(2, 3, 7, 7), 3, 3).withStride(2, 2).withPadding(1, 1),
                    Pool2dSpec.of(Pool2dSpec.Kind.AVG, Shape.of(1, 2, 7, 7), 3, 3).withStride(2, 2).withPadding(1, 1)
                            .withCountIncludePad(false)}) {
                Tensor x = random(a, DType.FLOAT32, 8, spec.inputShape().dims());
                Tensor dy = random(a, DType.FLOAT32, 9, spec.outputShape().dims());
                var f32 = backend.planPool2d(spec, a).orElseThrow();
                var f64 = backend.planPool2d(spec.withDType(DType.FLOAT64), a).orElseThrow();
                Tensor ws32 = a.allocate(DType.UINT8, Math.max(1, f32.workspaceBytes()));
                Tensor ws64 = a.allocate(DType.UINT8, Math.max(1, f64.workspaceBytes()));
                Tensor y32 = a.allocate(DType.FLOAT32, spec.outputShape());
                Tensor y64 = a.allocate(DType.FLOAT64, spec.outputShape());
                f32.forward(x, y32, ws32);
                f64.forward(Convert.to(x, DType.FLOAT64, a), y64, ws64);
                assertAgree(y32, y64, 1e-6);
                Tensor dx32 = a.allocate(DType.FLOAT32, spec.inputShape());
                Tensor dx64 = a.allocate(DType.FLOAT64, spec.inputShape());
                f32.backward(dy, ws32, dx32);
                f64.backward(Convert.to(dy, DType.FLOAT64, a), ws64, dx64);
                assertAgree(dx32, dx64, 1e-6);
            }
        }
    }

    @Test
    void mixedDtypesAreRefusedByName() {
        try (Allocator a = Allocator.root("t", 1L << 20)) {
            MatmulSpec spec = MatmulSpec.of(Shape.of(2, 2), Shape.of(2, 2)).withDType(DType.FLOAT64);
            var plan = backend.planMatmul(spec, a).orElseThrow();
            Tensor f32 = a.allocate(DType.FLOAT32, 2, 2);
            Tensor f64 = a.allocate(DType.FLOAT64, 2, 2);
            String message = assertThrows(IllegalArgumentException.class, () -> plan.execute(f32, f64, a.allocate(DType.FLOAT64, 2, 2)))
                    .getMessage();
            assertEquals(spec + ": operand a has dtype float32 but the plan expects float64", message);
        }
    }
}
