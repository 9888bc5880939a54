package org.streamdl.benchmarks;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.data.InMemoryDataset;
import org.streamdl.dnn.losses.SoftmaxCrossEntropy;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.Models;
import org.streamdl.dnn.optim.Adam;
import org.streamdl.dnn.quantize.Quantizer;
import org.streamdl.dnn.train.Evaluation;
import org.streamdl.dnn.train.Trainer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.RandomFill;

/**
 * I2: the M1 MLP trained as in M1, then post-training static int8 quantization calibrated on 1024
 * training images; batch-256 images/s of both (50 timed after 5 warm-up) and test accuracy of both.
 */
final class QuantizedWorkloads {
    private QuantizedWorkloads() {}

    /**
     * StreamDL's figures; ONNX Runtime's, measured in the same rounds on the same machine phases,
     * go into {@code onnxRuntime}.
     */
    static Map<String, Object> mlpInt8(WorkloadRunner.Options options, Map<String, Object> onnxRuntime) throws IOException {
        Path data = Path.of(options.data());
        InMemoryDataset train = InMemoryDataset.fashionMnist(data, "train");
        InMemoryDataset test = InMemoryDataset.fashionMnist(data, "t10k");
        Map<String, Object> figures = new LinkedHashMap<>();
        try (Model fp32 = Models.mlp(42, Kernels.create(options.threads()));
             Allocator inputs = Allocator.root("I2-inputs", 1L << 30)) {
            figures.put("backend", fp32.kernels().backendName());
            Trainer.builder(fp32, SoftmaxCrossEntropy::new, new Adam(fp32.allocator(), 1e-3))
                    .batchSize(256).epochs(options.epochs()).seed(42).maxIterations(options.maxIterations())
                    .logEvery(100).build().fit(train, null);
            Quantizer.Quantized q = InferenceWorkloads.quantize(fp32, train, options.threads());
            try (Model int8 = q.model()) {
                if (options.maxIterations() == 0) {
                    System.err.print(org.streamdl.dnn.quantize.QuantizationReport.measure("int8", fp32, int8, q.layers(),
                            test, 1000).format());
                }
                Tensor batch = inputs.allocate(DType.FLOAT32, 256, 1, 28, 28);
                RandomFill.uniform(batch, 0, 1, new Rng(42));
                // the same QDQ file ONNX Runtime runs, imported onto StreamDL's int8 kernels
                try (Model bf16 = Quantizer.bfloat16(fp32, Kernels.create(options.threads()));
                     Model qdq = importQdq(options.threads());
                     OnnxRuntimeBaseline.Session ortFp32 = OnnxRuntimeBaseline.Session.open("mlp.onnx", new long[] {256, 784},
                             options.threads());
                     OnnxRuntimeBaseline.Session ortInt8 = OnnxRuntimeBaseline.Session.open("mlp_int8_qdq.onnx",
                             new long[] {256, 784}, options.threads())) {
                    Map<String, BatchProtocol.Call> calls = new LinkedHashMap<>();
                    calls.put("fp32", () -> InferenceWorkloads.infer(fp32, batch));
                    calls.put("int8", () -> InferenceWorkloads.infer(int8, batch));
                    calls.put("bf16", () -> InferenceWorkloads.infer(bf16, batch));
                    calls.put("qdq", () -> InferenceWorkloads.infer(qdq, batch.reshape(256, 784)));
                    calls.put("ort_fp32", ortFp32.call());
                    calls.put("ort_int8", ortInt8.call());
                    Map<String, Double> rates = BatchProtocol.interleaved(calls, 256);
                    figures.put("fp32_img_s", WorkloadRunner.round(rates.get("fp32"), 1));
                    figures.put("int8_img_s", WorkloadRunner.round(rates.get("int8"), 1));
                    figures.put("int8_speedup", WorkloadRunner.round(rates.get("int8") / rates.get("fp32"), 2));
                    figures.put("batch_protocol", BatchProtocol.DESCRIPTION);
                    figures.put("bf16_img_s", WorkloadRunner.round(rates.get("bf16"), 1));
                    figures.put("qdq_onnx_int8_img_s", WorkloadRunner.round(rates.get("qdq"), 1));
                    onnxRuntime.put("ort_version", OnnxRuntimeBaseline.version());
                    onnxRuntime.put("batch_protocol", BatchProtocol.DESCRIPTION + ", in the same rounds as StreamDL's");
                    onnxRuntime.put("fp32_img_s", WorkloadRunner.round(rates.get("ort_fp32"), 1));
                    onnxRuntime.put("int8_img_s", WorkloadRunner.round(rates.get("ort_int8"), 1));
                    onnxRuntime.put("int8_speedup", WorkloadRunner.round(rates.get("ort_int8") / rates.get("ort_fp32"), 2));
                    if (options.maxIterations() == 0) {
                        figures.put("bf16_test_acc", WorkloadRunner.round(Evaluation.accuracy(bf16, test, 1000), 4));
                        System.err.print(org.streamdl.dnn.quantize.QuantizationReport.measure("bf16", fp32, bf16, List.of(),
                                test, 1000).format());
                    }
                } catch (Exception e) {
                    throw new IOException(e.getMessage(), e);
                }
                if (options.maxIterations() == 0) {
                    figures.put("fp32_test_acc", WorkloadRunner.round(Evaluation.accuracy(fp32, test, 1000), 4));
                    figures.put("int8_test_acc", WorkloadRunner.round(Evaluation.accuracy(int8, test, 1000), 4));
                }
            }
        }
        return figures;
    }

    private static Model importQdq(int threads) throws IOException {
        try {
            return org.streamdl.dnn.onnx.OnnxImporter.importModel(
                    org.streamdl.dnn.onnx.OnnxReader.read(OnnxRuntimeBaseline.model("mlp_int8_qdq.onnx"), "mlp_int8_qdq.onnx"),
                    "mlp_int8_qdq.onnx", Kernels.create(threads));
        } catch (org.streamdl.dnn.onnx.OnnxFormatException e) {
            throw new IOException(e.getMessage(), e);
        }
    }
}
