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
 * scalar L = Σ r·y with a fixed random r, in the dtype of the input. In float64 (parameters from a
 * float64 {@code ParameterFactory}, reference kernels) ε is 1e-6 and the bound relative 1e-6 with
 * an absolute floor of 1e-8: truncation and rounding errors are far below it, a wrong derivative
 * far above. In float32, ε is 1e-2 and the bound relative 1e-2 with a floor of 1e-3 (float32
 * forward noise over 2ε). Up to 256 coordinates per tensor (all of a small one); a failure names
 * the tensor and flat index.
 */
public final class GradientCheck {
    private record Bounds(double epsilon, double relative, double absolute) {}

    private static final Bounds FLOAT64 = new Bounds(1e-6, 1e-6, 1e-8);
    private static final Bounds FLOAT32 = new Bounds(1e-2, 1e-2, 1e-3);
    private static final int MAX_COORDINATES = 256;

    private GradientCheck() {}

    public static void check(Layer layer, Tensor input, Kernels kernels) {
        check(layer, input, kernels, true);
    }

    /** As {@link #check(Layer, Tensor, Kernels)}, with forward passes in training or inference mode. */
    public static void check(Layer layer, Tensor input, Kernels kernels, boolean training) {
        try (Allocator a = Allocator.root("gradient-check", 256L << 20)) {
            Tensor r;
            Tensor dx;
            try (Allocator step = a.newChild("analytic", 128L << 20)) {
                Context ctx = context(step, kernels, training);
                Tensor y = layer.forward(input, ctx);
                r = a.allocate(y.dtype(), y.shape());
                RandomFill.uniform(r, -1, 1, new Rng(7));
                Tensor g = layer.backward(r, ctx);
                dx = g == null ? null : Convert.to(g, DType.FLOAT64, a);
            }
            List<String> failures = new ArrayList<>();
            Bounds bounds = r.dtype() == DType.FLOAT64 ? FLOAT64 : FLOAT32;
            if (dx != null) {
                compare("input", input, dx, t -> loss(layer, input, r, kernels, training), bounds, failures);
            }
            for (Parameter p : layer.parameters()) {
                Tensor analytic = Convert.to(p.grad(), DType.FLOAT64, a);
                compare(p.name(), p.value(), analytic, t -> loss(layer, input, r, kernels, training), bounds, failures);
            }
            if (!failures.isEmpty()) {
                fail(layer + ": gradient check failed at\n" + String.join("\n", failures.subList(0, Math.min(8, failures.size()))));
            }
        }
    }

    private static void compare(String name, Tensor perturbed, Tensor analytic, Function<Tensor, Double> lossOf,
                                Bounds bounds, List<String> failures) {
        long n = perturbed.elementCount();
        Rng pick = new Rng(n);
        int samples = (int) Math.min(MAX_COORDINATES, n);
        Tensor flat = perturbed.reshape(n);
        Tensor grads = analytic.reshape(n);
        for (int s = 0; s < samples; s++) {
            long i = n <= MAX_COORDINATES ? s : pick.nextInt((int) n);
            double original = flat.getDouble(i);
            flat.set(original + bounds.epsilon(), i);
            double plus = lossOf.apply(perturbed);
            flat.set(original - bounds.epsilon(), i);
            double minus = lossOf.apply(perturbed);
            flat.set(original, i);
            double numeric = (plus - minus) / (2 * bounds.epsilon());
            double error = Math.abs(numeric - grads.getDouble(i));
            if (error > bounds.absolute() + bounds.relative() * Math.abs(numeric)) {
                failures.add(name + "[" + i + "]: numeric " + numeric + ", analytic " + grads.getDouble(i));
            }
        }
    }

    private static Context context(Allocator step, Kernels kernels, boolean training) {
        return training ? Context.training(step, kernels, new Rng(1)) : Context.inference(step, kernels);
    }

    private static double loss(Layer layer, Tensor input, Tensor r, Kernels kernels, boolean training) {
        try (Allocator step = Allocator.root("numeric", 128L << 20)) {
            Tensor y = layer.forward(input, context(step, kernels, training));
            long n = y.elementCount();
            Tensor yv = y.contiguous(step).reshape(n);
            Tensor rv = r.reshape(n);
            double sum = 0;
            for (long i = 0; i < n; i++) {
                sum += yv.getDouble(i) * rv.getDouble(i);
            }
            return sum;
        }
    }
}
