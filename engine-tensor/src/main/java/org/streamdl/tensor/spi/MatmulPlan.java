package org.streamdl.tensor.spi;

import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;

/** A matmul prepared for one {@link MatmulSpec}; execute it as often as needed, then close it. */
public interface MatmulPlan extends AutoCloseable {

    MatmulSpec spec();

    /**
     * {@code c = alpha · op(a) · op(b) + beta · c}. The operands must have the spec's shapes and dtype;
     * any strides are accepted. {@code c} must not share memory with {@code a} or {@code b}.
     */
    void execute(Tensor a, Tensor b, Tensor c);

    /** {@code c = relu?(op(a) · op(b) + bias)} for a spec with a bias; {@code bias} is (n). */
    void execute(Tensor a, Tensor b, Tensor bias, Tensor c);

    @Override
    void close();

    /** Throws {@link IllegalArgumentException} naming the operand whose shape or dtype differs from the spec. */
    static void checkOperands(MatmulSpec spec, Tensor a, Tensor b, Tensor bias, Tensor c) {
        if (spec.hasBias() != (bias != null)) {
            throw new IllegalArgumentException(Checks.format("%s: %s", spec,
                    spec.hasBias() ? "the plan adds a bias but none was given" : "the plan has no bias but one was given"));
        }
        if (bias != null) {
            check(spec, "bias", spec.biasShape(), spec.outputType(), bias);
        }
        checkOperands(spec, a, b, c);
    }

    static void checkOperands(MatmulSpec spec, Tensor a, Tensor b, Tensor c) {
        check(spec, "a", spec.aShape(), spec.aType(), a);
        check(spec, "b", spec.bShape(), spec.dtype(), b);
        check(spec, "c", spec.cShape(), spec.outputType(), c);
        if (c.storage() == a.storage() || c.storage() == b.storage()) {
            throw new IllegalArgumentException(Checks.format("%s: c shares memory with an input; write into a separate tensor", spec));
        }
    }

    private static void check(MatmulSpec spec, String name, org.streamdl.tensor.Shape expected,
                              org.streamdl.tensor.DType dtype, Tensor t) {
        if (!t.shape().equals(expected)) {
            throw new IllegalArgumentException(Checks.format("%s: operand %s has shape %s but the plan expects %s",
                    spec, name, t.shape(), expected));
        }
        if (t.dtype() != dtype) {
            throw new IllegalArgumentException(Checks.format("%s: operand %s has dtype %s but the plan expects %s",
                    spec, name, t.dtype(), dtype));
        }
    }
}
