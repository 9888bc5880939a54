package org.streamdl.tensor.spi;

import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * A convolution prepared for one {@link Conv2dSpec}. Tensors are float32 and contiguous in the
 * spec's plain layouts (NCHW, OIHW). Gradients are written, not accumulated. Not thread-safe.
 */
public interface Conv2dPlan extends AutoCloseable {

    Conv2dSpec spec();

    /** y = conv(x, w) + b, then ReLU if the spec fuses it. {@code b} is ignored (may be null) without bias. */
    void forward(Tensor x, Tensor w, Tensor b, Tensor y);

    /** dx = ∂L/∂x from dy (which is the gradient after any ReLU: the caller applies ReLU's mask). */
    void backwardData(Tensor dy, Tensor w, Tensor dx);

    /** dw = ∂L/∂w and db = Σ dy over batch and space ({@code db} may be null without bias). */
    void backwardWeights(Tensor x, Tensor dy, Tensor dw, Tensor db);

    @Override
    void close();

    /** Throws {@link IllegalArgumentException} naming the operand that is not float32, contiguous and of the expected shape. */
    static void check(Object spec, String operand, Shape expected, Tensor t) {
        if (t == null) {
            throw new IllegalArgumentException(Checks.format("%s: operand %s is missing", spec, operand));
        }
        if (!t.shape().equals(expected)) {
            throw new IllegalArgumentException(Checks.format("%s: operand %s has shape %s but the plan expects %s",
                    spec, operand, t.shape(), expected));
        }
        org.streamdl.tensor.DType expectedType = spec instanceof Conv2dSpec c ? c.dtype()
                : spec instanceof Pool2dSpec p ? p.dtype() : org.streamdl.tensor.DType.FLOAT32;
        if (t.dtype() != expectedType) {
            throw new IllegalArgumentException(Checks.format("%s: operand %s has dtype %s; expected %s",
                    spec, operand, t.dtype(), expectedType));
        }
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(Checks.format("%s: operand %s must be contiguous; call contiguous(allocator) first",
                    spec, operand));
        }
    }
}
