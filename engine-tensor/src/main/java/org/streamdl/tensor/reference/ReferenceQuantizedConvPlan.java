package org.streamdl.tensor.reference;

import java.nio.ByteBuffer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.ElementAccess;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;
import org.streamdl.tensor.spi.Conv2dSpec;
import org.streamdl.tensor.spi.QuantizedConvPlan;
import org.streamdl.tensor.spi.QuantizedConvSpec;

/**
 * The int8 convolution by definition: exact integer sums, then the float scaling, bias, ReLU and
 * rounding of each output, then max pooling over the rounded codes (or floats).
 */
final class ReferenceQuantizedConvPlan implements QuantizedConvPlan {
    private final QuantizedConvSpec spec;

    private final Allocator scratch;   // the quantized input and the unpooled output, freed after each call

    ReferenceQuantizedConvPlan(QuantizedConvSpec spec, Allocator memory) {
        this.spec = spec;
        this.scratch = memory.newChild("reference " + spec);
    }

    @Override
    public QuantizedConvSpec spec() {
        return spec;
    }

    @Override
    public void execute(Tensor x, float xScale, Tensor w, Tensor wScales, Tensor bias, float outScale, Tensor y) {
        QuantizedConvPlan.checkOperands(spec, x, w, wScales, bias, y);
        try {
            Tensor codes = spec.floatInput() ? Convert.quantize(x, xScale, spec.activation(), scratch) : x;
            Tensor convolved = spec.pooled() ? scratch.allocate(spec.output(), spec.conv().outputShape()) : y;
            convolve(codes, xScale, w, wScales, bias, outScale, convolved);
            if (spec.pooled()) {
                maxPool(convolved, y);
            }
        } finally {
            scratch.freeAll();
        }
    }

    private void convolve(Tensor x, float xScale, Tensor w, Tensor wScales, Tensor bias, float outScale, Tensor y) {
        Conv2dSpec c = spec.conv();
        int n = (int) c.batchSize();
        int channels = (int) c.inChannels();
        int h = (int) c.inputShape().dim(2);
        int wd = (int) c.inputShape().dim(3);
        int oc = (int) c.outChannels();
        int oh = (int) c.outH();
        int ow = (int) c.outW();
        int kh = (int) c.kernelH();
        int kw = (int) c.kernelW();
        int groups = (int) c.groups();
        int cg = channels / groups;
        int og = oc / groups;
        ByteBuffer xb = x.buffer();
        ByteBuffer wb = w.buffer();
        int xo = (int) x.offset();
        int wo = (int) w.offset();
        boolean unsigned = spec.activation() == DType.UINT8;
        for (int b = 0; b < n; b++) {
            for (int o = 0; o < oc; o++) {
                int g = o / og;
                float scale = xScale * wScales.getFloat(o);
                float shift = bias == null ? 0f : bias.getFloat(o);
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        long acc = 0;
                        for (int ci = 0; ci < cg; ci++) {
                            int channel = g * cg + ci;
                            for (int p = 0; p < kh; p++) {
                                long row = i * c.strideH() - c.padH() + p * c.dilationH();
                                if (row < 0 || row >= h) {
                                    continue;
                                }
                                for (int q = 0; q < kw; q++) {
                                    long col = j * c.strideW() - c.padW() + q * c.dilationW();
                                    if (col < 0 || col >= wd) {
                                        continue;
                                    }
                                    int xv = xb.get(xo + (int) (((long) (b * channels + channel) * h + row) * wd + col));
                                    int wv = wb.get(wo + ((o * cg + ci) * kh + p) * kw + q);
                                    acc += (long) (unsigned ? xv & 0xff : xv) * wv;
                                }
                            }
                        }
                        float v = scale * acc + shift;
                        if (c.relu() && v < 0) {
                            v = 0;
                        }
                        int at = (int) y.offset() + ((b * oc + o) * oh + i) * ow + j;
                        if (spec.output() == DType.FLOAT32) {
                            y.buffer().putFloat(at * 4, v);
                        } else {
                            ElementAccess.store(y.buffer(), spec.output(), at, v / outScale);
                        }
                    }
                }
            }
        }
    }

    private void maxPool(Tensor in, Tensor out) {
        long[] d = in.shape().dims();
        long[] o = out.shape().dims();
        int k = (int) spec.poolKernel();
        int s = (int) spec.poolStride();
        for (long plane = 0; plane < d[0] * d[1]; plane++) {
            long b = plane / d[1];
            long ch = plane % d[1];
            for (long i = 0; i < o[2]; i++) {
                for (long j = 0; j < o[3]; j++) {
                    double best = Double.NEGATIVE_INFINITY;
                    for (int p = 0; p < k; p++) {
                        for (int q = 0; q < k; q++) {
                            best = Math.max(best, in.getDouble(b, ch, i * s + p, j * s + q));
                        }
                    }
                    out.set(best, b, ch, i, j);
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
