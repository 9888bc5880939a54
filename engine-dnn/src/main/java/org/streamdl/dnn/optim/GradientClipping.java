package org.streamdl.dnn.optim;

import java.nio.FloatBuffer;
import java.util.List;
import org.streamdl.dnn.Parameter;
import org.streamdl.tensor.Checks;

/** Gradient clipping applied between backward and the optimizer step. */
public final class GradientClipping {
    private GradientClipping() {}

    /** Clamps every gradient element to [−limit, limit] ({@code clip_grad_value_}). */
    public static void byValue(List<Parameter> parameters, double limit) {
        Checks.argument(limit > 0, "clip value must be > 0 but was %s", limit);
        float l = (float) limit;
        for (Parameter p : parameters) {
            FloatBuffer g = p.grad().buffer().asFloatBuffer();
            for (int i = 0; i < p.grad().elementCount(); i++) {
                g.put(i, Math.max(-l, Math.min(l, g.get(i))));
            }
        }
    }

    /**
     * Scales all gradients together so their global L2 norm is at most {@code maxNorm}
     * ({@code clip_grad_norm_}); returns the norm before clipping.
     */
    public static double byGlobalNorm(List<Parameter> parameters, double maxNorm) {
        Checks.argument(maxNorm > 0, "max norm must be > 0 but was %s", maxNorm);
        double sumSquares = 0;
        for (Parameter p : parameters) {
            FloatBuffer g = p.grad().buffer().asFloatBuffer();
            for (int i = 0; i < p.grad().elementCount(); i++) {
                sumSquares += (double) g.get(i) * g.get(i);
            }
        }
        double norm = Math.sqrt(sumSquares);
        double scale = maxNorm / (norm + 1e-6);
        if (scale < 1) {
            for (Parameter p : parameters) {
                FloatBuffer g = p.grad().buffer().asFloatBuffer();
                for (int i = 0; i < p.grad().elementCount(); i++) {
                    g.put(i, (float) (g.get(i) * scale));
                }
            }
        }
        return norm;
    }
}
