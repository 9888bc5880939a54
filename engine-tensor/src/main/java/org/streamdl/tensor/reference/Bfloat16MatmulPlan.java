package org.streamdl.tensor.reference;

import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;
import org.streamdl.tensor.spi.MatmulPlan;
import org.streamdl.tensor.spi.MatmulSpec;

/**
 * bfloat16 operands, float32 accumulation and result: the operands widen exactly to float32 and
 * the float32 reference product runs on them, which is what bfloat16 hardware computes up to the
 * order of the sums.
 */
final class Bfloat16MatmulPlan implements MatmulPlan {
    private final MatmulSpec spec;
    private final MatmulPlan float32;
    private final Allocator scratch;   // the widened operands, freed after each call

    Bfloat16MatmulPlan(MatmulSpec spec, MatmulPlan float32, Allocator memory) {
        this.spec = spec;
        this.float32 = float32;
        this.scratch = memory.newChild("reference " + spec);
    }

    @Override
    public MatmulSpec spec() {
        return spec;
    }

    @Override
    public void execute(Tensor a, Tensor b, Tensor c) {
        execute(a, b, null, c);
    }

    @Override
    public void execute(Tensor a, Tensor b, Tensor bias, Tensor c) {
        MatmulPlan.checkOperands(spec, a, b, bias, c);
        try {
            Tensor rounded = spec.floatInput() ? Convert.to(a, DType.BFLOAT16, scratch) : a;
            float32.execute(Convert.to(rounded, DType.FLOAT32, scratch), Convert.to(b, DType.FLOAT32, scratch), bias, c);
        } finally {
            scratch.freeAll();
        }
    }

    @Override
    public void close() {
        float32.close();
        scratch.close();
    }

    @Override
    public String toString() {
        return "reference " + spec;
    }
}
