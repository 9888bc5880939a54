package org.streamdl.dnn.quantize;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.layers.Conv2d;
import org.streamdl.dnn.layers.Int8Fusion;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.layers.Layer;
import org.streamdl.dnn.layers.LayerRegistry;
import org.streamdl.dnn.layers.Linear;
import org.streamdl.dnn.layers.QuantizedConv2d;
import org.streamdl.dnn.layers.QuantizedLinear;
import org.streamdl.dnn.layers.Relu;
import org.streamdl.dnn.layers.Sequential;
import org.streamdl.dnn.model.Model;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/**
 * Post-training static int8 quantization of a {@link Sequential} model. Calibration runs the
 * float32 model on sample batches and records the range of every Linear and Conv2d layer's input
 * (its largest magnitude, or a percentile of the magnitudes that ignores rare outliers). Each then
 * becomes a {@link QuantizedLinear} or {@link QuantizedConv2d}: weights int8 with one symmetric
 * scale per output channel, inputs uint8 when calibration saw no negative value (after a ReLU) and
 * int8 otherwise, a following ReLU fused (and, for a convolution, a following unpadded max pooling,
 * which commutes with quantization), and the output requantized straight into the next int8
 * layer's input when one follows through shape-only layers. Other layers stay float32, so a
 * quantized model changes precision only at those boundaries. The float32 model is left untouched.
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
        Allocator allocator = Model.newMemory("int8 " + model.network().name());
        List<Layer> quantized = new ArrayList<>();
        List<LayerReport> report = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            Layer layer = layers.get(i);
            if (!quantizable(layer)) {
                quantized.add(copy(layer, allocator));
                continue;
            }
            Int8Fusion fused = Int8Fusion.after(layers, i);
            Range in = ranges.get(i);
            DType inputType = in.nonNegative ? DType.UINT8 : DType.INT8;
            float range = in.range(method, percentile);
            float inputScale = scale(range, inputType);
            int next = nextQuantizable(layers, fused.end());
            DType outputType = DType.FLOAT32;
            float outputScale = 1f;
            if (next >= 0) {
                Range nextIn = ranges.get(next);
                outputType = nextIn.nonNegative ? DType.UINT8 : DType.INT8;
                outputScale = scale(nextIn.range(method, percentile), outputType);
            }
            Tensor w = layer.parameters().get(0).value();
            Tensor b = layer.parameters().size() > 1 ? Convert.to(layer.parameters().get(1).value(), DType.FLOAT32, allocator) : null;
            Tensor codes = allocator.allocate(DType.INT8, w.shape());
            Tensor weightScales = allocator.allocate(DType.FLOAT32, w.shape().dim(0));
            float[] ws = quantizeRows(w, codes, weightScales);
            if (layer instanceof Conv2d conv) {
                quantized.add(new QuantizedConv2d(conv.name(), conv.geometry().withRelu(fused.relu()), codes, weightScales,
                        b, inputScale, inputType, outputScale, outputType, fused.poolKernel(), fused.poolStride()));
            } else {
                quantized.add(new QuantizedLinear(layer.name(), codes, weightScales, b, fused.relu(), inputScale, inputType,
                        outputScale, outputType));
            }
            report.add(new LayerReport(layer.name(), inputType, inputScale, range, ws[0], ws[1], outputType));
            i = fused.end() - 1;   // the ReLU and pooling are fused
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
        Allocator allocator = Model.newMemory("bf16 " + model.network().name());
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
    public record Quantized(Model model, List<LayerReport> layers) implements AutoCloseable {
        @Override
        public void close() {
            model.close();
        }
    }

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

    /**
     * Linear layers and convolutions with at least 4 input channels per group. VNNI multiplies int8
     * values in groups of 4 along the input channels, so a convolution over one channel (the first
     * layer of an image network) pads 1 to 4 and measured slower in int8 than in float32; it stays
     * float32 and the next layer quantizes its output.
     */
    private static boolean quantizable(Layer layer) {
        return layer instanceof Linear
                || layer instanceof Conv2d conv && conv.geometry().inChannels() / conv.geometry().groups() >= 4;
    }

    /** The next Linear or Conv2d reachable through shape-only layers, or -1. */
    private static int nextQuantizable(List<Layer> layers, int from) {
        int at = Int8Fusion.skipShapeOnly(layers, from);
        return at < layers.size() && quantizable(layers.get(at)) ? at : -1;
    }

    private static float scale(float range, DType codes) {
        float r = range > 0 ? range : 1e-8f;
        return r / (codes == DType.UINT8 ? 255f : 127f);
    }

    /**
     * Symmetric int8 codes for {@code w} with one scale per row (output channel): the row's largest
     * magnitude maps to 127. Returns the smallest and largest scale.
     */
    private static float[] quantizeRows(Tensor w, Tensor codes, Tensor scaleTensor) {
        int rows = (int) w.shape().dim(0);
        float[] values = Convert.toFloatArray(w);
        int width = values.length / rows;
        byte[] bytes = new byte[values.length];
        float[] scales = new float[rows];
        float lo = Float.MAX_VALUE;
        float hi = 0;
        for (int o = 0; o < rows; o++) {
            float max = 0;
            for (int k = 0; k < width; k++) {
                max = Math.max(max, Math.abs(values[o * width + k]));
            }
            scales[o] = max > 0 ? max / 127f : 1f;
            lo = Math.min(lo, scales[o]);
            hi = Math.max(hi, scales[o]);
            for (int k = 0; k < width; k++) {
                bytes[o * width + k] = (byte) Math.max(-127, Math.min(127, Math.rint(values[o * width + k] / scales[o])));
            }
        }
        codes.buffer().put((int) codes.offset(), bytes);
        for (int o = 0; o < rows; o++) {
            scaleTensor.set(scales[o], o);
        }
        return new float[] {lo, hi};
    }

    /** Runs the float32 layers one by one and records each Linear's input range. */
    private static Map<Integer, Range> calibrate(Model model, List<Layer> layers, List<Tensor> batches) {
        Map<Integer, Range> ranges = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            if (quantizable(layers.get(i))) {
                ranges.put(i, new Range(i));
            }
        }
        for (Tensor batch : batches) {
            try (Allocator step = model.allocator().newChild("calibration")) {
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
