package org.streamdl.dnn.quantize;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.layers.Flatten;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.layers.Layer;
import org.streamdl.dnn.layers.LayerRegistry;
import org.streamdl.dnn.layers.Linear;
import org.streamdl.dnn.layers.QuantizedLinear;
import org.streamdl.dnn.layers.Relu;
import org.streamdl.dnn.layers.Reshape;
import org.streamdl.dnn.layers.Sequential;
import org.streamdl.dnn.model.Model;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/**
 * Post-training static int8 quantization of a {@link Sequential} model. Calibration runs the
 * float32 model on sample batches and records the range of every Linear layer's input (its
 * largest magnitude, or a percentile of the magnitudes that ignores rare outliers). Each Linear
 * then becomes a {@link QuantizedLinear}: weights int8 with one symmetric scale per output, inputs
 * uint8 when calibration saw no negative value (after a ReLU) and int8 otherwise, a following ReLU
 * fused, and the output requantized straight into the next int8 layer's input when one follows.
 * Other layers stay float32. The float32 model is left untouched.
 */
public final class Quantizer {
    /** How an activation range is taken from calibration. */
    public enum Calibration {
        /** The largest magnitude seen. */
        MAX_ABS,
        /** The {@code percentile} of magnitudes (for example 99.99), which clips outliers. */
        PERCENTILE
    }

    /** One quantized layer, for the report. */
    public record LayerReport(String name, DType inputType, float inputScale, float range, float weightScaleMin,
                              float weightScaleMax, DType outputType) {}

    private static final int SAMPLES_PER_LAYER = 1 << 20;

    private Quantizer() {}

    /**
     * Quantizes {@code model} (a Sequential network) after running it on {@code calibration}
     * batches; the result runs on {@code kernels} and owns its own memory.
     */
    public static Quantized quantize(Model model, List<Tensor> calibration, Calibration method, double percentile,
                                     Kernels kernels) {
        Checks.argument(model.network() instanceof Sequential, "quantization handles Sequential networks, not %s",
                model.network());
        Checks.argument(!calibration.isEmpty(), "calibration needs at least one batch");
        Checks.argument(method != Calibration.PERCENTILE || (percentile > 50 && percentile <= 100),
                "percentile must be in (50, 100] but is %s", percentile);
        List<Layer> layers = ((Sequential) model.network()).layers();
        Map<Integer, Range> ranges = calibrate(model, layers, calibration);
        Allocator allocator = Allocator.root("int8 " + model.network().name(), 64L << 30);
        List<Layer> quantized = new ArrayList<>();
        List<LayerReport> report = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            if (!(layer instanceof Linear linear)) {
                quantized.add(copy(layer, allocator));
                continue;
            }
            boolean relu = i + 1 < layers.size() && layers.get(i + 1) instanceof Relu;
            Range in = ranges.get(i);
            DType inputType = in.nonNegative ? DType.UINT8 : DType.INT8;
            float range = in.range(method, percentile);
            float inputScale = scale(range, inputType);
            int next = nextQuantizable(layers, i + (relu ? 2 : 1));
            DType outputType = DType.FLOAT32;
            float outputScale = 1f;
            if (next >= 0) {
                Range nextIn = ranges.get(next);
                outputType = nextIn.nonNegative ? DType.UINT8 : DType.INT8;
                outputScale = scale(nextIn.range(method, percentile), outputType);
            }
            QuantizedLinear q = quantizeLinear(linear, relu, inputScale, inputType, outputScale, outputType, allocator);
            float[] ws = q.weightScaleRange();
            report.add(new LayerReport(linear.name(), inputType, inputScale, range, ws[0], ws[1], outputType));
            quantized.add(q);
            if (relu) {
                i++; // fused
            }
        }
        Model result = new Model(new Sequential(model.network().name() + "-int8", quantized), allocator, kernels);
        return new Quantized(result, report);
    }

    /**
     * {@code model} with every Linear layer (and a ReLU right after it) in bfloat16, the other
     * layers float32; no calibration is needed: bfloat16 keeps float32's range.
     */
    public static Model bfloat16(Model model, Kernels kernels) {
        Checks.argument(model.network() instanceof Sequential, "bfloat16 conversion handles Sequential networks, not %s",
                model.network());
        List<Layer> layers = ((Sequential) model.network()).layers();
        Allocator allocator = Allocator.root("bf16 " + model.network().name(), 64L << 30);
        List<Layer> converted = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            if (!(layer instanceof Linear linear)) {
                converted.add(copy(layer, allocator));
                continue;
            }
            boolean relu = i + 1 < layers.size() && layers.get(i + 1) instanceof Relu;
            Tensor w = Convert.to(linear.parameters().get(0).value(), DType.BFLOAT16, allocator);
            Tensor b = linear.parameters().size() > 1 ? Convert.to(linear.parameters().get(1).value(), DType.FLOAT32, allocator) : null;
            converted.add(new org.streamdl.dnn.layers.Bfloat16Linear(linear.name(), w, b, relu));
            if (relu) {
                i++;
            }
        }
        return new Model(new Sequential(model.network().name() + "-bf16", converted), allocator, kernels);
    }

    /** The quantized model and what was done to each layer. */
    public record Quantized(Model model, List<LayerReport> layers) {}

    /** A float32 layer rebuilt with its own copies of its parameters and buffers, so the models are independent. */
    private static Layer copy(Layer layer, Allocator allocator) {
        Layer twin = LayerRegistry.build(layer.config(), new ParameterFactory(allocator, 0));
        for (int p = 0; p < layer.parameters().size(); p++) {
            Convert.copy(layer.parameters().get(p).value(), twin.parameters().get(p).value());
        }
        for (int b = 0; b < layer.buffers().size(); b++) {
            Convert.copy(layer.buffers().get(b).value(), twin.buffers().get(b).value());
        }
        return twin;
    }

    /** The next Linear reachable through shape-only layers, or -1. */
    private static int nextQuantizable(List<Layer> layers, int from) {
        for (int j = from; j < layers.size(); j++) {
            Layer l = layers.get(j);
            if (l instanceof Linear) {
                return j;
            }
            if (!(l instanceof Flatten || l instanceof Reshape)) {
                return -1;
            }
        }
        return -1;
    }

    private static float scale(float range, DType codes) {
        float r = range > 0 ? range : 1e-8f;
        return r / (codes == DType.UINT8 ? 255f : 127f);
    }

    private static QuantizedLinear quantizeLinear(Linear linear, boolean relu, float inputScale, DType inputType,
                                                  float outputScale, DType outputType, Allocator allocator) {
        Tensor w = linear.parameters().get(0).value();
        Tensor b = linear.parameters().size() > 1 ? linear.parameters().get(1).value() : null;
        int out = (int) w.shape().dim(0);
        int in = (int) w.shape().dim(1);
        float[] values = Convert.toFloatArray(w);
        byte[] codes = new byte[values.length];
        float[] scales = new float[out];
        for (int o = 0; o < out; o++) {
            float max = 0;
            for (int k = 0; k < in; k++) {
                max = Math.max(max, Math.abs(values[o * in + k]));
            }
            scales[o] = max > 0 ? max / 127f : 1f;
            for (int k = 0; k < in; k++) {
                codes[o * in + k] = (byte) Math.max(-127, Math.min(127, Math.rint(values[o * in + k] / scales[o])));
            }
        }
        Tensor weights = allocator.allocate(DType.INT8, out, in);
        weights.buffer().put((int) weights.offset(), codes);
        Tensor scaleTensor = Convert.fromFloats(scales, org.streamdl.tensor.Shape.of(out), allocator);
        Tensor bias = b == null ? null : Convert.to(b, DType.FLOAT32, allocator);
        return new QuantizedLinear(linear.name(), weights, scaleTensor, bias, relu, inputScale, inputType, outputScale,
                outputType);
    }

    /** Runs the float32 layers one by one and records each Linear's input range. */
    private static Map<Integer, Range> calibrate(Model model, List<Layer> layers, List<Tensor> batches) {
        Map<Integer, Range> ranges = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof Linear) {
                ranges.put(i, new Range(i));
            }
        }
        for (Tensor batch : batches) {
            try (Allocator step = model.allocator().newChild("calibration", Long.MAX_VALUE / 4)) {
                ((Sequential) model.network()).forwardObserving(batch, Context.inference(step, model.kernels()), (i, h) -> {
                    Range r = ranges.get(i);
                    if (r != null) {
                        r.observe(Convert.toFloatArray(h));
                    }
                });
            }
        }
        return ranges;
    }

    /** The magnitudes one layer's input took: the maximum, the sign, and a bounded sample for percentiles. */
    private static final class Range {
        private final java.util.SplittableRandom random;
        private float maxAbs;
        private boolean nonNegative = true;
        private float[] sample = new float[1024];
        private int size;
        private long seen;

        Range(long seed) {
            this.random = new java.util.SplittableRandom(seed);
        }

        void observe(float[] values) {
            for (float v : values) {
                float a = Math.abs(v);
                maxAbs = Math.max(maxAbs, a);
                nonNegative &= v >= 0;
                seen++;
                if (size < SAMPLES_PER_LAYER) {
                    if (size == sample.length) {
                        sample = Arrays.copyOf(sample, Math.min(SAMPLES_PER_LAYER, size * 2));
                    }
                    sample[size++] = a;
                } else {
                    long slot = random.nextLong(seen); // reservoir sampling keeps a uniform sample
                    if (slot < SAMPLES_PER_LAYER) {
                        sample[(int) slot] = a;
                    }
                }
            }
        }

        float range(Calibration method, double percentile) {
            if (method == Calibration.MAX_ABS || size == 0) {
                return maxAbs;
            }
            float[] sorted = Arrays.copyOf(sample, size);
            Arrays.sort(sorted);
            int at = (int) Math.min(size - 1, Math.ceil(percentile / 100 * size) - 1);
            return sorted[Math.max(0, at)];
        }
    }
}
