package org.streamdl.tensor.spi;

import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/** The operand check of the int8 plans: present, of the planned shape and dtype, contiguous. */
final class OperandCheck {
    private OperandCheck() {}

    /** Throws {@link IllegalArgumentException} naming {@code name} and the plan; builds no message on success. */
    static void check(Object spec, String name, Shape shape, DType dtype, Tensor t) {
        if (t == null) {
            throw new IllegalArgumentException(Checks.format("%s: operand %s is missing", spec, name));
        }
        if (!t.shape().equals(shape) || t.dtype() != dtype) {
            throw new IllegalArgumentException(Checks.format("%s: operand %s is %s %s but the plan expects %s %s",
                    spec, name, t.dtype(), t.shape(), dtype, shape));
        }
        if (!t.isContiguous()) {
            throw new IllegalArgumentException(Checks.format("%s: operand %s must be contiguous", spec, name));
        }
    }
}
