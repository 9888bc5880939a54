package org.streamdl.dnn.quantize;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.layers.QuantizedLinear;
import org.streamdl.dnn.layers.Sequential;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.model.Models;
import org.streamdl.dnn.testing.ReferenceData;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/** The PyTorch-trained MLP quantized to int8 keeps its answers; the int8 layers chain without float32 in between. */
class QuantizerTest {
    private static int[] top1(Tensor logits) {
        float[] v = Convert.toFloatArray(logits);
        int classes = (int) logits.shape().dim(1);
        int[] best = new int[v.length / classes];
        for (int i = 0; i < best.length; i++) {
            for (int j = 1; j < classes; j++) {
                best[i] = v[i * classes + j] > v[i * classes + best[i]] ? j : best[i];
            }
        }
        return best;
    }

    /** At least 250/256 top classes as float32's, and at most 3 more or fewer right. */
    private static void assertKeepsItsAnswers(int[] fp32, int[] int8, int[] labels) {
        int agree = 0;
        int fp32Correct = 0;
        int int8Correct = 0;
        for (int i = 0; i < labels.length; i++) {
            agree += fp32[i] == int8[i] ? 1 : 0;
            fp32Correct += fp32[i] == labels[i] ? 1 : 0;
            int8Correct += int8[i] == labels[i] ? 1 : 0;
        }
        assertTrue(agree >= 250, agree + "/256 top classes agree");
        assertTrue(Math.abs(fp32Correct - int8Correct) <= 3, fp32Correct + " vs " + int8Correct + " correct");
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void int8MlpAgreesWithFloat32(Kernels.Preference preference) {
        try (Model fp32 = Models.mlp(1, Kernels.create(2, preference)); Allocator a = Allocator.root("test", 64L << 20)) {
            ReferenceData.loadWeights(fp32, "mlp-weights");
            Tensor images = ReferenceData.images(a).reshape(256, 784);
            int[] labels = Convert.toIntArray(ReferenceData.labels(a));
            Tensor calibration = images.narrow(0, 0, 128);
            Quantizer.Quantized q = Quantizer.quantize(fp32, List.of(calibration), Quantizer.Calibration.MAX_ABS, 100,
                    Kernels.create(2, preference));
            try (Model int8 = q.model()) {
                List<Quantizer.LayerReport> report = q.layers();
                assertEquals(3, report.size());
                assertEquals(DType.UINT8, report.get(0).inputType()); // pixels are never negative
                assertEquals(DType.UINT8, report.get(0).outputType()); // requantized for fc2 after the fused ReLU
                assertEquals(DType.UINT8, report.get(1).outputType());
                assertEquals(DType.FLOAT32, report.get(2).outputType()); // logits
                assertEquals(1f / 255, report.get(0).inputScale(), 1e-6); // pixels span [0, 1]
                List<?> layers = ((Sequential) int8.network()).layers();
                assertTrue(layers.stream().filter(l -> l instanceof QuantizedLinear).count() == 3, layers.toString());

                int[] f = top1(fp32.predict(images, a));
                int[] g = top1(int8.predict(images, a));
                assertKeepsItsAnswers(f, g, labels);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void int8LenetRunsConvolutionsInInt8AndKeepsItsAnswers(Kernels.Preference preference, @TempDir Path dir) throws Exception {
        try (Model fp32 = Models.lenet5(1, Kernels.create(2, preference)); Allocator a = Allocator.root("test", 64L << 20)) {
            ReferenceData.loadWeights(fp32, "lenet5-weights");
            Tensor images = ReferenceData.images(a);
            int[] labels = Convert.toIntArray(ReferenceData.labels(a));
            Quantizer.Quantized q = Quantizer.quantize(fp32, List.of(images.narrow(0, 0, 128)),
                    Quantizer.Calibration.MAX_ABS, 100, Kernels.create(2, preference));
            try (Model int8 = q.model()) {
                List<Quantizer.LayerReport> report = q.layers();
                // the one-channel first convolution stays float32 (int8 is slower there); from the second on,
                // codes all the way to the logits
                assertEquals(List.of("features.3", "classifier.1", "classifier.3", "classifier.5"),
                        report.stream().map(Quantizer.LayerReport::name).toList());
                for (int i = 0; i < 3; i++) {
                    assertEquals(DType.UINT8, report.get(i).outputType(), report.get(i).toString());
                }
                assertEquals(DType.FLOAT32, report.get(3).outputType());
                List<?> layers = ((Sequential) int8.network()).layers();
                assertTrue(layers.get(0) instanceof org.streamdl.dnn.layers.Conv2d, layers.toString());
                int conv2 = 3;
                assertTrue(layers.get(conv2) instanceof org.streamdl.dnn.layers.QuantizedConv2d, layers.toString());
                assertTrue(layers.subList(conv2, layers.size()).stream().noneMatch(l -> l instanceof org.streamdl.dnn.layers.Pool2d
                        || l instanceof org.streamdl.dnn.layers.Relu), "ReLUs and the max pool are fused: " + layers);

                int[] f = top1(fp32.predict(images, a));
                Tensor logits = int8.predict(images, a);
                int[] g = top1(logits);
                assertKeepsItsAnswers(f, g, labels);

                Path file = dir.resolve("lenet5-int8.sdlm");
                ModelFile.write(file, int8, Map.of());
                try (Model loaded = ModelFile.read(file, Kernels.create(1, preference)).model()) {
                    assertArrayEquals(Convert.toFloatArray(logits), Convert.toFloatArray(loaded.predict(images, a)));
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kernels.Preference.class)
    void bfloat16MlpAgreesWithFloat32AndSavesLikeAnyModel(Kernels.Preference preference) throws Exception {
        Path dir = java.nio.file.Files.createTempDirectory("bf16");
        try (Model fp32 = Models.mlp(1, Kernels.create(2, preference)); Allocator a = Allocator.root("test", 64L << 20)) {
            ReferenceData.loadWeights(fp32, "mlp-weights");
            Tensor images = ReferenceData.images(a).reshape(256, 784);
            try (Model bf16 = Quantizer.bfloat16(fp32, Kernels.create(2, preference))) {
                float[] f = Convert.toFloatArray(fp32.predict(images, a));
                float[] g = Convert.toFloatArray(bf16.predict(images, a));
                double max = 0;
                for (int i = 0; i < f.length; i++) {
                    max = Math.max(max, Math.abs(f[i] - g[i]));
                }
                // 8 mantissa bits on inputs and weights, float32 sums: logits move by a few hundredths at most
                assertTrue(max < 0.15, "largest logit change " + max);
                int[] tf = top1(fp32.predict(images, a));
                int[] tg = top1(bf16.predict(images, a));
                int agree = 0;
                for (int i = 0; i < 256; i++) {
                    agree += tf[i] == tg[i] ? 1 : 0;
                }
                assertTrue(agree >= 253, agree + "/256 top classes agree");
                Path file = dir.resolve("mlp-bf16.sdlm");
                ModelFile.write(file, bf16, Map.of());
                try (Model loaded = ModelFile.read(file, Kernels.create(1, preference)).model()) {
                    assertArrayEquals(g, Convert.toFloatArray(loaded.predict(images, a)));
                }
            }
        }
    }

    @Test
    void reportGivesLayerScalesAccuraciesBeforeAndAfterAndTheSpeedup() throws Exception {
        try (Model fp32 = Models.mlp(1, Kernels.create(1)); Allocator a = Allocator.root("test", 64L << 20)) {
            ReferenceData.loadWeights(fp32, "mlp-weights");
            Tensor images = ReferenceData.images(a).reshape(256, 784);
            int[] labels = Convert.toIntArray(ReferenceData.labels(a));
            org.streamdl.dnn.data.InMemoryDataset heldOut = org.streamdl.dnn.data.InMemoryDataset.ofFeatures(
                    Convert.toFloatArray(images), org.streamdl.tensor.Shape.of(784), labels);
            Quantizer.Quantized q = Quantizer.quantize(fp32, List.of(images.narrow(0, 0, 128)),
                    Quantizer.Calibration.MAX_ABS, 100, Kernels.create(1));
            try (Model int8 = q.model()) {
                QuantizationReport report = QuantizationReport.measure("int8", fp32, int8, q.layers(), heldOut, 64);
                assertEquals(org.streamdl.dnn.train.Evaluation.accuracy(fp32, heldOut, 64), report.float32Accuracy());
                assertEquals(org.streamdl.dnn.train.Evaluation.accuracy(int8, heldOut, 64), report.accuracy());
                assertTrue(report.float32Accuracy() > 0.8, "reference MLP accuracy " + report.float32Accuracy());
                assertTrue(Math.abs(report.accuracyChangePoints()) < 3, report.format());
                assertTrue(report.speedup() > 0 && Double.isFinite(report.speedup()), report.format());
                String text = report.format();
                for (String layer : List.of("fc1", "fc2", "fc3")) {
                    assertTrue(text.contains(layer), text);
                }
                assertTrue(text.contains("accuracy float32") && text.contains("speed-up"), text);
            }
        }
    }

    @Test
    void percentileCalibrationClipsOutliersAndTheModelFileKeepsTheInt8Model(@TempDir Path dir) throws Exception {
        try (Model fp32 = Models.mlp(1, Kernels.create(1)); Allocator a = Allocator.root("test", 64L << 20)) {
            ReferenceData.loadWeights(fp32, "mlp-weights");
            Tensor images = ReferenceData.images(a).reshape(256, 784);
            Quantizer.Quantized max = Quantizer.quantize(fp32, List.of(images), Quantizer.Calibration.MAX_ABS, 100, Kernels.create(1));
            Quantizer.Quantized p = Quantizer.quantize(fp32, List.of(images), Quantizer.Calibration.PERCENTILE, 99.9, Kernels.create(1));
            try (Model m = max.model(); Model pm = p.model()) {
                assertTrue(p.layers().get(1).range() < max.layers().get(1).range(),
                        p.layers().get(1) + " vs " + max.layers().get(1));
                Path file = dir.resolve("mlp-int8.sdlm");
                ModelFile.write(file, pm, Map.of("quantized", "percentile 99.9"));
                try (Model loaded = ModelFile.read(file, Kernels.create(1)).model()) {
                    assertArrayEquals(Convert.toFloatArray(pm.predict(images, a)), Convert.toFloatArray(loaded.predict(images, a)));
                }
            }
            assertThrows(IllegalArgumentException.class,
                    () -> Quantizer.quantize(fp32, List.of(images), Quantizer.Calibration.PERCENTILE, 30, Kernels.create(1)));
        }
    }
}
