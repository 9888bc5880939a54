package org.streamdl.tensor.reference;

import java.nio.DoubleBuffer;
import java.util.Arrays;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.MatmulPlan;
import org.streamdl.tensor.spi.MatmulSpec;

/**
 * Float64 matmul by the definition, one dot product per output element: the oracle for gradient
 * checks, where exactness matters and speed does not.
 */
final class Float64MatmulPlan implements MatmulPlan {
    private final MatmulSpec spec;

    Float64MatmulPlan(MatmulSpec spec) {
        this.spec = spec;
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
        Shape cShape = spec.cShape();
        int batchRank = cShape.rank() - 2;
        long[] batchDims = Arrays.copyOf(cShape.dims(), batchRank);
        Tensor ea = a.expand(ReferenceMatmulPlan.withBatch(batchDims, a.shape()));
        Tensor eb = b.expand(ReferenceMatmulPlan.withBatch(batchDims, b.shape()));
        DoubleBuffer da = a.buffer().asDoubleBuffer();
        DoubleBuffer db = b.buffer().asDoubleBuffer();
        DoubleBuffer dc = c.buffer().asDoubleBuffer();
        DoubleBuffer dbias = bias == null ? null : bias.buffer().asDoubleBuffer();
        long[] sa = ea.strides();
        long[] sb = eb.strides();
        long[] sc = c.strides();
        long aRow = spec.transposeA() ? sa[batchRank + 1] : sa[batchRank];
        long aCol = spec.transposeA() ? sa[batchRank] : sa[batchRank + 1];
        long bRow = spec.transposeB() ? sb[batchRank + 1] : sb[batchRank];
        long bCol = spec.transposeB() ? sb[batchRank] : sb[batchRank + 1];
        long biasStride = bias == null ? 0 : bias.stride(0);
        for (long[] o : ReferenceMatmulPlan.batchOffsets(batchDims, ea, eb, c)) {
            for (long i = 0; i < spec.m(); i++) {
                for (long j = 0; j < spec.n(); j++) {
                    double sum = 0;
                    for (long p = 0; p < spec.k(); p++) {
                        sum += da.get((int) (o[0] + i * aRow + p * aCol)) * db.get((int) (o[1] + p * bRow + j * bCol));
                    }
                    int at = (int) (o[2] + i * sc[batchRank] + j * sc[batchRank + 1]);
                    double v = spec.alpha() * sum + (spec.beta() == 0 ? 0 : spec.beta() * dc.get(at));
                    if (dbias != null) {
                        v += dbias.get((int) (bias.offset() + j * biasStride));
                    }
                    dc.put(at, spec.relu() && v < 0 ? 0 : v);
                }
            }
        }
    }

    @Override
    public void close() {}

    @Override
    public String toString() {
        return "float64 reference " + spec;
    }
}
