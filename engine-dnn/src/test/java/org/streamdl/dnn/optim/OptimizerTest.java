package org.streamdl.dnn.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.streamdl.dnn.Parameter;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/** Updates follow torch.optim's formulas, checked step by step against the same formulas in double. */
class OptimizerTest {
    private Allocator a;
    private Parameter p;

    @BeforeEach
    void open() {
        a = Allocator.root("test", 1 << 20);
        p = new Parameter("w", Convert.fromFloats(new float[] {1, -2, 0.5f}, Shape.of(3), a),
                Convert.fromFloats(new float[] {0.1f, 0.2f, -0.3f}, Shape.of(3), a));
    }

    @AfterEach
    void close() {
        a.close();
    }

    private float[] w() {
        return Convert.toFloatArray(p.value());
    }

    @Test
    void sgdWithMomentumStartsItsBufferAtTheGradient() {
        Sgd sgd = new Sgd(a, 0.1, 0.9);
        sgd.step(List.of(p));                       // v = g; w -= 0.1·g
        assertArrayEquals(new float[] {0.99f, -2.02f, 0.53f}, w(), 1e-6f);
        sgd.step(List.of(p));                       // v = 0.9·g + g = 1.9g
        assertArrayEquals(new float[] {0.99f - 0.019f, -2.02f - 0.038f, 0.53f + 0.057f}, w(), 1e-6f);
        assertArrayEquals(new float[] {0.19f, 0.38f, -0.57f},
                Convert.toFloatArray(sgd.state().get("w.momentum_buffer")), 1e-6f);
    }

    @Test
    void sgdNesterovAndWeightDecay() {
        Sgd sgd = new Sgd(a, 0.1, 0.5, 0.01, true);
        sgd.step(List.of(p));
        // g' = g + 0.01·w; v = g'; w -= 0.1·(g' + 0.5·v) = 0.1·1.5·g'
        float[] g = {0.1f + 0.01f, 0.2f - 0.02f, -0.3f + 0.005f};
        assertArrayEquals(new float[] {1 - 0.15f * g[0], -2 - 0.15f * g[1], 0.5f - 0.15f * g[2]}, w(), 1e-6f);
    }

    @Test
    void adamTakesLrSizedFirstSteps() {
        Adam adam = new Adam(a, 0.01);
        adam.step(List.of(p));
        // bias-corrected m̂ = g, v̂ = g²: the first step is lr·sign(g) (ε aside)
        assertArrayEquals(new float[] {0.99f, -2.01f, 0.51f}, w(), 1e-6f);
        double[] m = {0.1, 0.2, -0.3};
        double[] v = new double[3];
        double[] expected = {0.99, -2.01, 0.51};
        for (int i = 0; i < 3; i++) {
            m[i] = 0.1 * m[i];                      // m after step 1 is 0.1·g; step 2: 0.9·m + 0.1·g
            v[i] = 0.001 * (i == 0 ? 0.01 : i == 1 ? 0.04 : 0.09);
        }
        adam.step(List.of(p));
        double c1 = 1 - 0.9 * 0.9;
        double c2 = 1 - 0.999 * 0.999;
        double[] g = {0.1, 0.2, -0.3};
        for (int i = 0; i < 3; i++) {
            double mi = 0.9 * m[i] + 0.1 * g[i];
            double vi = 0.999 * v[i] + 0.001 * g[i] * g[i];
            expected[i] -= 0.01 * (mi / c1) / (Math.sqrt(vi / c2) + 1e-8);
        }
        assertArrayEquals(new float[] {(float) expected[0], (float) expected[1], (float) expected[2]}, w(), 1e-6f);
    }

    @Test
    void adamWDecaysWeightsDirectly() {
        Adam adamW = Adam.adamW(a, 0.01, 0.1);
        adamW.step(List.of(p));
        assertArrayEquals(new float[] {1 * 0.999f - 0.01f, -2 * 0.999f - 0.01f, 0.5f * 0.999f + 0.01f}, w(), 1e-6f);
    }

    @Test
    void adagradAndRmsProp() {
        new Adagrad(a, 0.1).step(List.of(p));       // s = g², step = lr·g/|g| = 0.1·sign(g)
        assertArrayEquals(new float[] {0.9f, -2.1f, 0.6f}, w(), 1e-6f);
        RmsProp rms = new RmsProp(a, 0.01);
        rms.step(List.of(p));                        // s = 0.01·g², step = lr·g/(0.1·|g|) = 0.1·sign(g)
        assertArrayEquals(new float[] {0.8f, -2.2f, 0.7f}, w(), 1e-5f);
    }

    @Test
    void clippingByValueAndByGlobalNorm() {
        GradientClipping.byValue(List.of(p), 0.15);
        assertArrayEquals(new float[] {0.1f, 0.15f, -0.15f}, Convert.toFloatArray(p.grad()), 1e-7f);
        double norm = GradientClipping.byGlobalNorm(List.of(p), 0.1);
        assertEquals(Math.sqrt(0.01 + 0.0225 + 0.0225), norm, 1e-6);
        float[] g = Convert.toFloatArray(p.grad());
        assertEquals(0.1, Math.sqrt(g[0] * g[0] + g[1] * g[1] + g[2] * g[2]), 1e-5);
    }

    @Test
    void schedulesFollowTorchFormulas() {
        assertEquals(0.1 * 0.5 * 0.5, LearningRateSchedule.step(0.1, 10, 0.5).at(25), 1e-12);
        assertEquals(0.1 * 0.1, LearningRateSchedule.multiStep(0.1, new long[] {30, 10}, 0.1).at(20), 1e-12);
        assertEquals(0.1 * Math.pow(0.9, 3), LearningRateSchedule.exponential(0.1, 0.9).at(3), 1e-12);
        assertEquals(0.05, LearningRateSchedule.cosine(0.1, 100, 0).at(50), 1e-12);
        assertEquals(0.0, LearningRateSchedule.cosine(0.1, 100, 0).at(150), 1e-12);
        LearningRateSchedule warm = LearningRateSchedule.linearWarmup(LearningRateSchedule.constant(0.1), 10, 0.1);
        assertEquals(0.01, warm.at(0), 1e-12);
        assertEquals(0.055, warm.at(5), 1e-12);
        assertEquals(0.1, warm.at(10), 1e-12);
    }

    @Test
    void refusesBadHyperParameters() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Sgd(a, 0.1, 1.0));
        assertEquals("momentum must be in [0, 1) but was 1.0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Adam(a, -1));
        assertThrows(IllegalArgumentException.class, () -> new Sgd(a, 0.1, 0, 0, true));
    }

    @Test
    void stateIsExportedUnderParameterNames() {
        Tensor before = Convert.to(p.value(), p.value().dtype(), a);
        Adam adam = new Adam(a, 0.01);
        adam.step(List.of(p));
        assertEquals(List.of("w.exp_avg", "w.exp_avg_sq"), List.copyOf(adam.state().keySet()));
        assertEquals(1, adam.steps());
        assertEquals(3, before.elementCount());
    }
}
