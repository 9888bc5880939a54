"""Golden data for importing a QDQ int8 convolutional network: the reference LeNet-5 (lenet5.onnx)
rewritten in QDQ form and its logits from an exact fake-quantization simulation.

The rewrite puts QuantizeLinear/DequantizeLinear pairs (uint8, zero point 0, one scale per tensor,
the largest value over the first 128 reference images) before both convolutions and the three Gemm
layers, and stores their weights as int8 with one symmetric scale per output channel (axis 0)
behind a DequantizeLinear; biases stay float32. The simulation evaluates that graph in float64 with
PyTorch (round half to even, as ONNX QuantizeLinear) on all 256 reference images.

Usage: python3 make_onnx_lenet_qdq.py REFERENCE_DIR OUT_DIR
       (Debian's python3-torch and python3-onnx; REFERENCE_DIR holds lenet5.onnx and images.f32)
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

CALIBRATION_IMAGES = 128
ACTIVATIONS = ["/features/features.0/Conv", "/features/features.3/Conv", "/classifier/classifier.1/Gemm",
               "/classifier/classifier.3/Gemm", "/classifier/classifier.5/Gemm"]


def fake_quantize(x, scale):
    return torch.clamp(torch.round(x / scale), 0, 255) * scale


def quantize_weights(w):
    flat = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    scales = np.where(flat > 0, flat / 127.0, 1.0).astype(np.float32)
    shape = (-1,) + (1,) * (w.ndim - 1)
    codes = np.clip(np.rint(w / scales.reshape(shape)), -127, 127).astype(np.int8)
    return codes, scales


def forward(x, p, scales, observe=None):
    """LeNet-5 on float64 tensors; with observe, records each quantized layer's input maximum instead."""
    def q(h, i):
        if observe is not None:
            observe[i] = max(observe.get(i, 0.0), float(h.max()))
            return h
        return fake_quantize(h, scales[i])
    h = F.max_pool2d(F.relu(F.conv2d(q(x, 0), p["features.0.weight"], p["features.0.bias"], padding=2)), 2)
    h = F.max_pool2d(F.relu(F.conv2d(q(h, 1), p["features.3.weight"], p["features.3.bias"])), 2)
    h = torch.flatten(h, 1)
    h = F.relu(F.linear(q(h, 2), p["classifier.1.weight"], p["classifier.1.bias"]))
    h = F.relu(F.linear(q(h, 3), p["classifier.3.weight"], p["classifier.3.bias"]))
    return F.linear(q(h, 4), p["classifier.5.weight"], p["classifier.5.bias"])


def main():
    reference, out_dir = sys.argv[1], sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    model = onnx.load(os.path.join(reference, "lenet5.onnx"))
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    images = np.fromfile(os.path.join(reference, "images.f32"), dtype="<f4").reshape(256, 1, 28, 28)

    codes, weight_scales, params = {}, {}, {}
    for name, w in weights.items():
        if name.endswith(".weight"):
            codes[name], weight_scales[name] = quantize_weights(w)
            shape = (-1,) + (1,) * (w.ndim - 1)
            params[name] = torch.from_numpy(codes[name].astype(np.float64) * weight_scales[name].reshape(shape))
        else:
            params[name] = torch.from_numpy(w.astype(np.float64))
    x = torch.from_numpy(images.astype(np.float64))
    maxima = {}
    with torch.no_grad():
        forward(x[:CALIBRATION_IMAGES], params, None, observe=maxima)
        scales = [np.float32(maxima[i] / 255.0) for i in range(len(ACTIVATIONS))]
        logits = forward(x, {k: v for k, v in params.items()}, [float(s) for s in scales])

    nodes, initializers = [], []
    for t in model.graph.initializer:
        if not t.name.endswith(".weight"):
            initializers.append(t)
    for node in model.graph.node:
        if node.name in ACTIVATIONS:
            i = ACTIVATIONS.index(node.name)
            source, weight = node.input[0], node.input[1]
            prefix = f"a{i}"
            initializers += [numpy_helper.from_array(np.array(scales[i], dtype=np.float32), prefix + "_scale"),
                             numpy_helper.from_array(np.array(0, dtype=np.uint8), prefix + "_zp")]
            nodes.append(helper.make_node("QuantizeLinear", [source, prefix + "_scale", prefix + "_zp"], [prefix + "_q"],
                                          name=prefix + "_quantize"))
            nodes.append(helper.make_node("DequantizeLinear", [prefix + "_q", prefix + "_scale", prefix + "_zp"],
                                          [prefix + "_dq"], name=prefix + "_dequantize"))
            initializers += [numpy_helper.from_array(codes[weight], weight + "_q"),
                             numpy_helper.from_array(weight_scales[weight], weight + "_scale"),
                             numpy_helper.from_array(np.zeros(len(weight_scales[weight]), dtype=np.int8), weight + "_zp")]
            nodes.append(helper.make_node("DequantizeLinear", [weight + "_q", weight + "_scale", weight + "_zp"],
                                          [weight], name=weight + "_dequantize", axis=0))
            node.input[0] = prefix + "_dq"
        nodes.append(node)
    graph = helper.make_graph(nodes, "lenet5_int8_qdq", model.graph.input, model.graph.output, initializers)
    qdq = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="make_onnx_lenet_qdq.py")
    onnx.checker.check_model(qdq)
    onnx.save(qdq, os.path.join(out_dir, "lenet5_int8_qdq.onnx"))
    logits.numpy().astype("<f4").tofile(os.path.join(out_dir, "lenet5_int8_qdq_logits.f32"))
    with open(os.path.join(out_dir, "lenet5_int8_qdq.txt"), "w") as f:
        f.write(f"# torch {torch.__version__}, onnx {onnx.__version__}; deterministic (no seed needed)\n"
                f"activation scales {' '.join(f'{s:.6e}' for s in scales)}\nlogits float32 256,10\n")


if __name__ == "__main__":
    main()
