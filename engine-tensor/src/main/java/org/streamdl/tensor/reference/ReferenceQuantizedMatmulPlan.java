package org.streamdl.tensor.reference;

import java.nio.ByteBuffer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.ElementAccess;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;
import org.streamdl.tensor.spi.QuantizedMatmulPlan;
import org.streamdl.tensor.spi.QuantizedMatmulSpec;

/** The int8 product by definition: exact integer sums, then the float scaling, bias, ReLU and rounding. */
final class ReferenceQuantizedMatmulPlan implements QuantizedMatmulPlan {
    private final QuantizedMatmulSpec spec;
    private final Allocator scratch;   // the quantized float input, freed after each call

    ReferenceQuantizedMatmulPlan(QuantizedMatmulSpec spec, Allocator memory) {
        this.spec = spec;
        this.scratch = memory.newChild("reference " + spec);
    }

    @Override
    public QuantizedMatmulSpec spec() {
        return spec;
    }

    @Override
    public void execute(Tensor a, float aScale, Tensor w, Tensor wScales, Tensor bias, float outScale, Tensor c) {
        QuantizedMatmulPlan.checkOperands(spec, a, w, wScales, bias, c);
        if (spec.floatInput()) {
            try {
                multiply(Convert.quantize(a, aScale, spec.activation(), scratch), aScale, w, wScales, bias, outScale, c);
            } finally {
                scratch.freeAll();
            }
        } else {
            multiply(a, aScale, w, wScales, bias, outScale, c);
        }
    }

    private void multiply(Tensor a, float aScale, Tensor w, Tensor wScales, Tensor bias, float outScale, Tensor c) {
        ByteBuffer ab = a.buffer();
        ByteBuffer wb = w.buffer();
        ByteBuffer cb = c.buffer();
        int m = (int) spec.m();
        int k = (int) spec.k();
        int n = (int) spec.n();
        int ao = (int) a.offset();
        int wo = (int) w.offset();
        boolean unsigned = spec.activation() == DType.UINT8;
        DType out = spec.output();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                long acc = 0;
                for (int p = 0; p < k; p++) {
                    int av = ab.get(ao + i * k + p);
                    acc += (long) (unsigned ? av & 0xff : av) * wb.get(wo + j * k + p);
                }
                float v = aScale * wScales.getFloat(j) * acc + (bias == null ? 0f : bias.getFloat(j));
                if (spec.relu() && v < 0) {
                    v = 0;
                }
                int at = (int) c.offset() + i * n + j;
                if (out == DType.FLOAT32) {
                    cb.putFloat(at * 4, v);
                } else {
                    ElementAccess.store(cb, out, at, v / outScale);
                }
            }
        }
    }

    @Override
    public void close() {
        scratch.close();
    }

    @Override
    public String toString() {
        return "reference " + spec;
    }
}
