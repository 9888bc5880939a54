package org.streamdl.dnn.losses;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;
import org.streamdl.tensor.ops.RandomFill;

/** Loss values against hand-computed (PyTorch-defined) values, and gradients against central differences. */
class LossTest {
    private Allocator a;

    @BeforeEach
    void open() {
        a = Allocator.root("test", 16L << 20);
    }

    @AfterEach
    void close() {
        a.close();
    }

    private Tensor f(Shape s, float... v) {
        return Convert.fromFloats(v, s, a);
    }

    /**
     * Central differences in float64 (ε 1e-6, bound 1e-6 relative + 1e-8): the predictions, and
     * float targets, are widened to float64 and the loss runs in float64 on every coordinate.
     */
    private void gradientCheck(Supplier<Loss> loss, Tensor predictions, Tensor targets) {
        Tensor p = Convert.to(predictions, DType.FLOAT64, a);
        Tensor t = targets.dtype() == DType.FLOAT32 ? Convert.to(targets, DType.FLOAT64, a) : targets;
        Loss analytic = loss.get();
        analytic.forward(p, t, a);
        Tensor g = analytic.gradient(a);
        assertEquals(DType.FLOAT64, g.dtype());
        Tensor grads = g.reshape(g.elementCount());
        Tensor flat = p.reshape(p.elementCount());
        double eps = 1e-6;
        for (int i = 0; i < flat.elementCount(); i++) {
            double original = flat.getDouble(i);
            flat.set(original + eps, i);
            double plus = loss.get().forward(p, t, a);
            flat.set(original - eps, i);
            double minus = loss.get().forward(p, t, a);
            flat.set(original, i);
            double numeric = (plus - minus) / (2 * eps);
            assertEquals(numeric, grads.getDouble(i), 1e-8 + 1e-6 * Math.abs(numeric), "gradient element " + i);
        }
    }

    @Test
    void crossEntropyMatchesItsDefinition() {
        Tensor logits = f(Shape.of(2, 3), 1, 2, 3, 0, 0, 0);
        Tensor labels = Convert.fromInts(new int[] {2, 0}, Shape.of(2), a);
        double row0 = Math.log(Math.exp(1) + Math.exp(2) + Math.exp(3)) - 3;
        double row1 = Math.log(3);
        assertEquals((row0 + row1) / 2, new SoftmaxCrossEntropy().forward(logits, labels, a), 1e-6);
        // label smoothing 0.1: (1 - ε)·nll + ε·(logsumexp − mean logit)
        double smooth0 = 0.9 * row0 + 0.1 * (row0 + 3 - 2);
        double smooth1 = 0.9 * row1 + 0.1 * row1;
        assertEquals((smooth0 + smooth1) / 2, new SoftmaxCrossEntropy(0.1).forward(logits, labels, a), 1e-6);
        Tensor big = f(Shape.of(1, 2), 1000, -1000);
        assertEquals(0, new SoftmaxCrossEntropy().forward(big, Convert.fromInts(new int[] {0}, Shape.of(1), a), a), 1e-12);
    }

    @Test
    void crossEntropyGradients() {
        Tensor logits = a.allocate(DType.FLOAT32, 4, 5);
        RandomFill.normal(logits, 0, 2, new Rng(1));
        Tensor labels = Convert.fromInts(new int[] {0, 4, 2, 2}, Shape.of(4), a);
        gradientCheck(SoftmaxCrossEntropy::new, logits, labels);
        gradientCheck(() -> new SoftmaxCrossEntropy(0.2), logits, labels);
    }

    @Test
    void refusesLabelsOutsideTheClasses() {
        Tensor logits = a.allocate(DType.FLOAT32, 1, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new SoftmaxCrossEntropy().forward(logits, Convert.fromInts(new int[] {3}, Shape.of(1), a), a));
        assertEquals("cross-entropy: label 3 of row 0 is outside [0, 3)", e.getMessage());
    }

    @Test
    void regressionLossesMatchTheirDefinitions() {
        Tensor p = f(Shape.of(4), 0, 1, 3, -2);
        Tensor t = f(Shape.of(4), 0.5f, 1, 0, 0);
        assertEquals((0.25 + 0 + 9 + 4) / 4, ElementwiseLoss.mse().forward(p, t, a), 1e-7);
        assertEquals((0.5 + 0 + 3 + 2) / 4, ElementwiseLoss.l1().forward(p, t, a), 1e-7);
        assertEquals((0.125 + 0 + 2.5 + 1.5) / 4, ElementwiseLoss.smoothL1(1).forward(p, t, a), 1e-7);
        // BCE with logits: −[t·log σ(x) + (1 − t)·log(1 − σ(x))]
        double expected = 0;
        float[] x = {0, 1, 3, -2};
        float[] y = {0.5f, 1, 0, 0};
        for (int i = 0; i < 4; i++) {
            double s = 1 / (1 + Math.exp(-x[i]));
            expected -= y[i] * Math.log(s) + (1 - y[i]) * Math.log(1 - s);
        }
        assertEquals(expected / 4, ElementwiseLoss.bceWithLogits().forward(p, t, a), 1e-6);
    }

    @Test
    void regressionLossGradients() {
        Tensor p = f(Shape.of(2, 3), 0.3f, 1.7f, -2.4f, 0.6f, -0.9f, 2.2f);
        Tensor t = f(Shape.of(2, 3), 0.1f, 1, 0, 1, 0, 1);
        gradientCheck(ElementwiseLoss::mse, p, t);
        gradientCheck(ElementwiseLoss::l1, p, t);
        gradientCheck(() -> ElementwiseLoss.smoothL1(1), p, t);
        gradientCheck(ElementwiseLoss::bceWithLogits, p, t);
    }

    @Test
    void nllPicksTheLabelledLogProbability() {
        Tensor lp = f(Shape.of(2, 2), (float) Math.log(0.25), (float) Math.log(0.75), (float) Math.log(0.5), (float) Math.log(0.5));
        Tensor labels = Convert.fromInts(new int[] {1, 0}, Shape.of(2), a);
        assertEquals(-(Math.log(0.75) + Math.log(0.5)) / 2, new NllLoss().forward(lp, labels, a), 1e-6);
        gradientCheck(NllLoss::new, lp, labels);
    }
}
