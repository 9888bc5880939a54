package org.streamdl.dnn.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.layers.Layer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;
import org.streamdl.tensor.ops.RandomFill;

/**
 * Central-difference gradient checks of a layer's backward pass against its forward pass, for the
 * scalar L = Σ r·y with a fixed random r. Our tensors are float32, so ε is 1e-2 and the bound is
 * relative 1e-2 with an absolute floor of 1e-3 (float32 forward noise over 2ε); a sampled subset
 * of at most 64 coordinates per tensor. A failure names the tensor and flat index.
 */
public final class GradientCheck {
    static final double EPSILON = 1e-2;
    static final double RELATIVE = 1e-2;
    static final double ABSOLUTE = 1e-3;

    private GradientCheck() {}

    public static void check(Layer layer, Tensor input, Kernels kernels) {
        try (Allocator a = Allocator.root("gradient-check", 256L << 20)) {
            Tensor r;
            Tensor dx;
            try (Allocator step = a.newChild("analytic", 128L << 20)) {
                Context ctx = Context.training(step, kernels, new Rng(1));
                Tensor y = layer.forward(input, ctx);
                r = a.allocate(DType.FLOAT32, y.shape());
                RandomFill.uniform(r, -1, 1, new Rng(7));
                Tensor g = layer.backward(r, ctx);
                dx = g == null ? null : Convert.to(g, DType.FLOAT32, a);
            }
            List<String> failures = new ArrayList<>();
            if (dx != null) {
                compare("input", input, dx, t -> loss(layer, input, r, kernels), failures);
            }
            for (Parameter p : layer.parameters()) {
                Tensor analytic = Convert.to(p.grad(), DType.FLOAT32, a);
                compare(p.name(), p.value(), analytic, t -> loss(layer, input, r, kernels), failures);
            }
            if (!failures.isEmpty()) {
                fail(layer + ": gradient check failed at\n" + String.join("\n", failures.subList(0, Math.min(8, failures.size()))));
            }
        }
    }

    private static void compare(String name, Tensor perturbed, Tensor analytic, Function<Tensor, Double> lossOf,
                                List<String> failures) {
        long n = perturbed.elementCount();
        Rng pick = new Rng(n);
        int samples = (int) Math.min(64, n);
        Tensor flat = perturbed.reshape(n);
        float[] grads = Convert.toFloatArray(analytic);
        for (int s = 0; s < samples; s++) {
            long i = n <= 64 ? s : pick.nextInt((int) n);
            float original = flat.getFloat(i);
            flat.set(original + EPSILON, i);
            double plus = lossOf.apply(perturbed);
            flat.set(original - EPSILON, i);
            double minus = lossOf.apply(perturbed);
            flat.set(original, i);
            double numeric = (plus - minus) / (2 * EPSILON);
            double error = Math.abs(numeric - grads[(int) i]);
            if (error > ABSOLUTE + RELATIVE * Math.abs(numeric)) {
                failures.add(name + "[" + i + "]: numeric " + numeric + ", analytic " + grads[(int) i]);
            }
        }
    }

    private static double loss(Layer layer, Tensor input, Tensor r, Kernels kernels) {
        try (Allocator step = Allocator.root("numeric", 128L << 20)) {
            Tensor y = layer.forward(input, Context.training(step, kernels, new Rng(1)));
            float[] yv = Convert.toFloatArray(y);
            float[] rv = Convert.toFloatArray(r);
            double sum = 0;
            for (int i = 0; i < yv.length; i++) {
                sum += (double) yv[i] * rv[i];
            }
            return sum;
        }
    }
}
