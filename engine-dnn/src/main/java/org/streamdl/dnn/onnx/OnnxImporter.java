package org.streamdl.dnn.onnx;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.layers.Activation;
import org.streamdl.dnn.layers.Add;
import org.streamdl.dnn.layers.Arithmetic;
import org.streamdl.dnn.layers.BatchNorm;
import org.streamdl.dnn.layers.Concat;
import org.streamdl.dnn.layers.Conv2d;
import org.streamdl.dnn.layers.ConvTranspose2d;
import org.streamdl.dnn.layers.Embedding;
import org.streamdl.dnn.layers.FakeQuantize;
import org.streamdl.dnn.layers.Flatten;
import org.streamdl.dnn.layers.GlobalAvgPool2d;
import org.streamdl.dnn.layers.Graph;
import org.streamdl.dnn.layers.LayerNorm;
import org.streamdl.dnn.layers.Layer;
import org.streamdl.dnn.layers.Linear;
import org.streamdl.dnn.layers.Pool2d;
import org.streamdl.dnn.layers.Int8Fusion;
import org.streamdl.dnn.layers.QuantizedLinear;
import org.streamdl.dnn.layers.QuantizedConv2d;
import org.streamdl.dnn.layers.Relu;
import org.streamdl.dnn.layers.Reshape;
import org.streamdl.dnn.layers.Sequential;
import org.streamdl.dnn.layers.Softmax;
import org.streamdl.dnn.layers.Squeeze;
import org.streamdl.dnn.layers.Transpose;
import org.streamdl.dnn.model.Model;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.TensorBytes;
import org.streamdl.tensor.ops.Convert;
import org.streamdl.tensor.spi.Pool2dSpec;

/**
 * Turns an ONNX model (opset 13 or later, as PyTorch exports it) into a StreamDL {@link Model} for
 * inference. A chain of operators becomes a {@link Sequential} (so conv+ReLU+pool fuse on oneDNN);
 * anything else a {@link Graph}. Layers take the PyTorch names of their weights ({@code fc1.weight}
 * makes layer {@code fc1}). Every operator or attribute that cannot be imported is reported, all of
 * them in one {@link OnnxFormatException}, before any layer runs.
 */
public final class OnnxImporter {
    /** The operators this importer turns into layers, for the coverage report. */
    public static final Set<String> SUPPORTED = Set.of("Conv", "ConvTranspose", "Gemm", "MatMul", "Gather", "Relu", "LeakyRelu", "Sigmoid", "Tanh",
            "Softmax", "LogSoftmax", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization", "Flatten",
            "Reshape", "Add", "Sub", "Mul", "Div", "Concat", "Dropout", "Identity", "Constant", "QuantizeLinear",
            "DequantizeLinear", "Transpose", "Squeeze", "Unsqueeze", "Clip", "Erf", "Gelu", "LayerNormalization");

    private final String file;
    private final OnnxModel onnx;
    private final Map<String, OnnxModel.Initializer> constants = new HashMap<>();
    private final Map<String, String> nodeOf = new HashMap<>(); // ONNX value → StreamDL node name
    private final Map<String, OnnxModel.Initializer> weights = new LinkedHashMap<>(); // StreamDL parameter → data
    private final List<String> problems = new ArrayList<>();
    private final List<Layer> layers = new ArrayList<>();
    private final Set<String> usedNames = new java.util.HashSet<>();
    private final List<List<String>> layerInputs = new ArrayList<>();
    private ParameterFactory params;
    private final Map<String, OnnxModel.Node> pendingQuantize = new HashMap<>(); // QuantizeLinear output → node
    private final Map<String, Int8Weights> int8Constants = new HashMap<>();   // dequantized int8 constant → its codes
    private final Map<String, Int8Weights> int8Layers = new HashMap<>();      // Linear or Conv2d layer → its int8 weights
    private final boolean int8Kernels;

    /** int8 weights as the file stored them: codes (rows, columns) and one scale per row. */
    private record Int8Weights(byte[] codes, float[] rowScales, long[] dims) {}

    private OnnxImporter(String file, OnnxModel onnx, boolean int8Kernels) {
        this.file = file;
        this.int8Kernels = int8Kernels;
        this.onnx = onnx;
        constants.putAll(onnx.initializers());
    }

    /** Reads and imports {@code path}; the model uses {@code kernels} and closes them (as does a failed import). */
    public static Model importModel(Path path, Kernels kernels) throws IOException, OnnxFormatException {
        return importModel(OnnxReader.read(path), path.toString(), kernels);
    }

    public static Model importModel(OnnxModel onnx, String file, Kernels kernels) throws OnnxFormatException {
        return importModel(onnx, file, kernels, true);
    }

    /**
     * As {@link #importModel(OnnxModel, String, Kernels)}; with {@code int8Kernels} false, a QDQ
     * model runs as its exact fake-quantized float32 graph instead of on int8 kernels.
     */
    public static Model importModel(OnnxModel onnx, String file, Kernels kernels, boolean int8Kernels)
            throws OnnxFormatException {
        try {
            return new OnnxImporter(file, onnx, int8Kernels).build(kernels);
        } catch (OnnxFormatException | RuntimeException e) {
            kernels.close();
            throw e;
        }
    }

    private Model build(Kernels kernels) throws OnnxFormatException {
        if (onnx.opsetVersion() >= 0 && onnx.opsetVersion() < 13) {
            problems.add("opset " + onnx.opsetVersion() + ": expected opset 13 or later (re-export the model)");
        }
        List<String> graphInputs = new ArrayList<>();
        for (OnnxModel.ValueInfo in : onnx.inputs()) {
            if (!constants.containsKey(in.name())) {
                graphInputs.add(in.name());
                nodeOf.put(in.name(), in.name());
                usedNames.add(in.name());
            }
        }
        if (graphInputs.size() != 1 || onnx.outputs().size() != 1) {
            problems.add("graph: has inputs " + graphInputs + " and outputs "
                    + onnx.outputs().stream().map(OnnxModel.ValueInfo::name).toList()
                    + "; import handles one input and one output");
        }
        Allocator allocator = Model.newMemory("onnx " + file);
        params = new ParameterFactory(allocator, 0);
        for (OnnxModel.Node node : onnx.nodes()) {
            int before = problems.size();
            try {
                importNode(node);
            } catch (RuntimeException e) {
                problems.add(node.describe() + ": " + e.getMessage());
            }
            if (problems.size() > before && !node.outputs().isEmpty()) {
                nodeOf.putIfAbsent(node.outputs().get(0), node.outputs().get(0)); // keep later nodes' reports precise
            }
        }
        for (OnnxModel.Node q : pendingQuantize.values()) {
            problems.add(q.describe() + ": its output is not read by a DequantizeLinear (integer operators are not supported)");
        }
        String output = onnx.outputs().isEmpty() ? null : nodeOf.get(onnx.outputs().get(0).name());
        if (output == null && problems.isEmpty()) {
            problems.add("graph: output is not produced by any node");
        }
        if (!problems.isEmpty()) {
            allocator.close();
            throw new OnnxFormatException(file + ": cannot import " + problems.size() + " node(s) or attribute(s):\n  "
                    + String.join("\n  ", problems));
        }
        String name = Path.of(file).getFileName().toString().replaceFirst("\\.onnx$", "");
        boolean chain = isChain(graphInputs.get(0), output);
        List<Layer> chainLayers = chain && int8Kernels && !int8Layers.isEmpty() ? int8Chain(layers, allocator) : layers;
        Layer network = chain ? Sequential.of(name, chainLayers.toArray(Layer[]::new)) : graph(name, graphInputs, output);
        Model model = new Model(network, allocator, kernels);
        try (Allocator scratch = allocator.newChild("onnx weights")) {
            for (Map.Entry<String, OnnxModel.Initializer> w : weights.entrySet()) {
                model.load(w.getKey(), floats(w.getValue(), scratch));
            }
        }
        return model;
    }

    /**
     * QDQ patterns of a chain onto int8 kernels: FakeQuantize (zero point 0) → Linear or Conv2d
     * with int8 weights [→ Relu] [→ unpadded max pooling, after a convolution] becomes one
     * QuantizedLinear or QuantizedConv2d, whose output is requantized straight into the next such
     * pattern's FakeQuantize scale when one follows (through Flatten or Reshape), so codes flow
     * between int8 layers. Max pooling commutes with that requantization.
     */
    private List<Layer> int8Chain(List<Layer> chain, Allocator allocator) {
        List<Layer> out = new ArrayList<>();
        int i = 0;
        while (i < chain.size()) {
            Layer head = int8Head(chain, i);
            if (head == null) {
                out.add(chain.get(i++));
                continue;
            }
            FakeQuantize in = (FakeQuantize) chain.get(i);
            Int8Fusion fused = Int8Fusion.after(chain, i + 1);
            int next = Int8Fusion.skipShapeOnly(chain, fused.end());
            DType outputType = DType.FLOAT32;
            float outputScale = 1f;
            if (int8Head(chain, next) != null) {
                FakeQuantize following = (FakeQuantize) chain.get(next);
                outputType = following.codes();
                outputScale = (float) following.scale();
            }
            Int8Weights w = int8Layers.get(head.name());
            Tensor codes = allocator.allocate(DType.INT8, Shape.of(w.dims()));
            codes.buffer().put((int) codes.offset(), w.codes());
            Tensor scales = Convert.fromFloats(w.rowScales(), Shape.of(w.rowScales().length), allocator);
            OnnxModel.Initializer b = weights.remove(head.name() + ".bias");
            weights.remove(head.name() + ".weight");
            Tensor bias = b == null ? null : floats(b, allocator);
            if (head instanceof Conv2d conv) {
                out.add(new QuantizedConv2d(conv.name(), conv.geometry().withRelu(fused.relu()), codes, scales, bias,
                        (float) in.scale(), in.codes(), outputScale, outputType, fused.poolKernel(), fused.poolStride()));
            } else {
                out.add(new QuantizedLinear(head.name(), codes, scales, bias, fused.relu(), (float) in.scale(), in.codes(),
                        outputScale, outputType));
            }
            out.addAll(chain.subList(fused.end(), next));   // shape-only layers carry the codes unchanged
            i = next;
        }
        return out;
    }

    /** The Linear or Conv2d at {@code at + 1} when {@code at} starts an importable QDQ pattern, else null. */
    private Layer int8Head(List<Layer> chain, int at) {
        if (at + 1 >= chain.size() || !(chain.get(at) instanceof FakeQuantize q) || q.zeroPoint() != 0 || q.codes() == null
                || !(chain.get(at + 1) instanceof Linear || chain.get(at + 1) instanceof Conv2d)
                || !int8Layers.containsKey(chain.get(at + 1).name())) {
            return null;
        }
        return chain.get(at + 1);
    }

    private boolean isChain(String input, String output) {
        String previous = input;
        for (int i = 0; i < layers.size(); i++) {
            List<String> in = layerInputs.get(i);
            if (in.size() != 1 || !in.get(0).equals(previous)) {
                return false;
            }
            previous = layers.get(i).name();
        }
        return previous.equals(output);
    }

    private Graph graph(String name, List<String> inputs, String output) {
        Graph.Builder b = Graph.builder(name, inputs.toArray(String[]::new));
        for (int i = 0; i < layers.size(); i++) {
            b.add(layers.get(i), layerInputs.get(i).toArray(String[]::new));
        }
        return b.outputs(output).build();
    }

    private void importNode(OnnxModel.Node n) {
        if (!n.domain().isEmpty() && !n.domain().equals("ai.onnx")) {
            problems.add(n.describe() + ": operators of domain '" + n.domain() + "' are not supported");
            return;
        }
        switch (n.opType()) {
            case "Constant" -> {
                OnnxModel.Attribute value = n.attribute("value");
                if (value == null || value.t() == null) {
                    problems.add(n.describe() + ": only the 'value' tensor form of Constant is supported");
                } else {
                    constants.put(n.outputs().get(0), value.t());
                }
            }
            case "QuantizeLinear" -> {
                if (constant(n, 0) != null) {
                    problems.add(n.describe() + ": quantizing a constant is not supported (weights come as int8 + DequantizeLinear)");
                } else {
                    pendingQuantize.put(n.outputs().get(0), n);
                }
            }
            case "DequantizeLinear" -> dequantize(n);
            case "Conv" -> conv(n);
            case "ConvTranspose" -> convTranspose(n);
            case "Gemm" -> gemm(n);
            case "MatMul" -> matMul(n);
            case "Gather" -> gather(n);
            case "Relu" -> add(n, new Relu(nameFor(n, null)), 1);
            case "Sigmoid" -> add(n, Activation.sigmoid(nameFor(n, null)), 1);
            case "Tanh" -> add(n, Activation.tanh(nameFor(n, null)), 1);
            case "LeakyRelu" -> add(n, Activation.leakyRelu(nameFor(n, null), n.floatAttribute("alpha", 0.01f)), 1);
            case "Identity", "Dropout" -> add(n, Activation.identity(nameFor(n, null)), 1);
            case "Softmax", "LogSoftmax" -> {
                long axis = n.intAttribute("axis", -1);
                if (axis != -1 && axis != 1) {
                    problems.add(n.describe() + ": attribute axis=" + axis + " is not supported (the last axis, -1, is)");
                    return;
                }
                String name = nameFor(n, null);
                add(n, n.opType().equals("Softmax") ? Softmax.softmax(name) : Softmax.logSoftmax(name), 1);
            }
            case "MaxPool", "AveragePool" -> pool(n);
            case "GlobalAveragePool" -> add(n, new GlobalAvgPool2d(nameFor(n, null)), 1);
            case "Flatten" -> {
                if (n.intAttribute("axis", 1) != 1) {
                    problems.add(n.describe() + ": attribute axis=" + n.intAttribute("axis", 1) + " is not supported (1 is)");
                    return;
                }
                add(n, new Flatten(nameFor(n, null)), 1);
            }
            case "Reshape" -> reshape(n);
            case "Add" -> arithmetic(n, Arithmetic.Op.ADD);
            case "Sub" -> arithmetic(n, Arithmetic.Op.SUB);
            case "Mul" -> arithmetic(n, Arithmetic.Op.MUL);
            case "Div" -> arithmetic(n, Arithmetic.Op.DIV);
            case "Transpose" -> {
                long[] perm = n.intsAttribute("perm", null);
                if (perm == null || perm.length == 0 || perm[0] != 0) {
                    problems.add(n.describe() + ": attribute perm=" + (perm == null ? "(reverse)" : Arrays.toString(perm))
                            + " moves the batch axis (only per-sample permutations are supported)");
                    return;
                }
                add(n, new Transpose(nameFor(n, null), Arrays.stream(perm).mapToInt(v -> (int) v).toArray()), 1);
            }
            case "Squeeze", "Unsqueeze" -> {
                long[] axes = n.inputs().size() > 1 ? longs(requireInt64(n, 1, "axes")) : n.intsAttribute("axes", null);
                if (axes == null || axes.length == 0) {
                    problems.add(n.describe() + ": needs explicit axes");
                    return;
                }
                int[] a = Arrays.stream(axes).mapToInt(v -> (int) v).toArray();
                String name = nameFor(n, null);
                add(n, n.opType().equals("Squeeze") ? Squeeze.squeeze(name, a) : Squeeze.unsqueeze(name, a), 1);
            }
            case "Clip" -> {
                double low = n.inputs().size() > 1 && !n.inputs().get(1).isEmpty() ? scalar(n, 1, "min") : Double.NEGATIVE_INFINITY;
                double high = n.inputs().size() > 2 && !n.inputs().get(2).isEmpty() ? scalar(n, 2, "max") : Double.POSITIVE_INFINITY;
                if (!Double.isNaN(low) && !Double.isNaN(high)) {
                    add(n, Activation.clip(nameFor(n, null), low, high), 1);
                }
            }
            case "Erf" -> add(n, Activation.erf(nameFor(n, null)), 1);
            case "Gelu" -> {
                OnnxModel.Attribute approximate = n.attribute("approximate");
                if (approximate != null && approximate.s() != null && !new String(approximate.s()).equals("none")) {
                    problems.add(n.describe() + ": attribute approximate=" + new String(approximate.s())
                            + " is not supported (the exact form is)");
                    return;
                }
                add(n, Activation.gelu(nameFor(n, null)), 1);
            }
            case "LayerNormalization" -> layerNorm(n);
            case "Concat" -> add(n, new Concat(nameFor(n, null), (int) n.intAttribute("axis", 1)), n.inputs().size());
            case "BatchNormalization" -> batchNorm(n);
            default -> problems.add(n.describe() + ": operator " + n.opType() + " is not supported");
        }
    }

    /**
     * A DequantizeLinear of a constant (int8/uint8 weights, int32 bias) folds into a float constant;
     * one of a QuantizeLinear's output becomes a {@link FakeQuantize} layer: a QDQ pair imports as
     * the exact fake-quantized float graph.
     */
    private void dequantize(OnnxModel.Node n) {
        OnnxModel.Initializer scale = constant(n, 1);
        OnnxModel.Initializer zero = n.inputs().size() > 2 && !n.inputs().get(2).isEmpty() ? constant(n, 2) : null;
        if (scale == null || scale.dataType() != OnnxReader.FLOAT) {
            problems.add(n.describe() + ": x_scale must be a float constant");
            return;
        }
        OnnxModel.Initializer x = constant(n, 0);
        if (x != null) {
            constants.put(n.outputs().get(0), foldDequantize(n, x, scale, zero));
            recordInt8(n, x, scale, zero);
            return;
        }
        OnnxModel.Node q = pendingQuantize.remove(n.inputs().get(0));
        if (q == null) {
            problems.add(n.describe() + ": dequantizes '" + n.inputs().get(0) + "', which is neither a constant nor a "
                    + "QuantizeLinear output (integer operators are not supported)");
            return;
        }
        OnnxModel.Initializer qScale = constant(q, 1);
        OnnxModel.Initializer qZero = q.inputs().size() > 2 ? constant(q, 2) : null;
        if (scale.elementCount() != 1 || qScale == null || !Arrays.equals(qScale.data(), scale.data())
                || (zero == null) != (qZero == null) || (zero != null && !Arrays.equals(zero.data(), qZero.data()))) {
            problems.add(n.describe() + ": only per-tensor QuantizeLinear/DequantizeLinear pairs with the same scale and "
                    + "zero point are supported");
            return;
        }
        double s = ByteBuffer.wrap(scale.data()).order(ByteOrder.LITTLE_ENDIAN).getFloat();
        int zeroType = zero == null ? OnnxReader.UINT8 : zero.dataType();
        long zp = zero == null ? 0 : zeroType == OnnxReader.UINT8 ? zero.data()[0] & 0xff : zero.data()[0];
        if (zeroType != OnnxReader.UINT8 && zeroType != OnnxReader.INT8) {
            problems.add(n.describe() + ": zero point of ONNX data type " + zeroType + " (uint8 or int8 expected)");
            return;
        }
        String name = nameFor(n, null);
        // the layer reads the quantizer's input directly: the pair is one fake-quantization
        OnnxModel.Node pair = new OnnxModel.Node(n.name(), n.opType(), n.domain(), List.of(q.inputs().get(0)), n.outputs(),
                n.attributes());
        add(pair, zeroType == OnnxReader.UINT8 ? FakeQuantize.uint8(name, s, zp) : FakeQuantize.int8(name, s, zp), 1);
    }

    /**
     * Keeps the codes of int8 weights with zero point 0, per-tensor or per-output-channel (axis 0)
     * scales, for int8 kernels: matrices (Gemm, MatMul) and OIHW convolution kernels.
     */
    private void recordInt8(OnnxModel.Node n, OnnxModel.Initializer x, OnnxModel.Initializer scale, OnnxModel.Initializer zero) {
        int rank = x.dims().length;
        if (x.dataType() != OnnxReader.INT8 || (rank != 2 && rank != 4) || (zero != null && !allZero(zero))) {
            return;
        }
        long rows = x.dims()[0];
        boolean perRow = scale.elementCount() == rows && n.intAttribute("axis", 1) == 0;
        if (scale.elementCount() != 1 && !perRow) {
            return;
        }
        ByteBuffer s = ByteBuffer.wrap(scale.data()).order(ByteOrder.LITTLE_ENDIAN);
        float[] rowScales = new float[(int) rows];
        for (int r = 0; r < rows; r++) {
            rowScales[r] = s.getFloat(perRow ? r * 4 : 0);
        }
        int8Constants.put(n.outputs().get(0), new Int8Weights(x.data(), rowScales, x.dims()));
    }

    private static boolean allZero(OnnxModel.Initializer t) {
        for (byte b : t.data()) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }

    private OnnxModel.Initializer foldDequantize(OnnxModel.Node n, OnnxModel.Initializer x, OnnxModel.Initializer scale,
                                                 OnnxModel.Initializer zero) {
        long count = x.elementCount();
        int axis = (int) n.intAttribute("axis", 1);
        if (axis < 0) {
            axis += x.dims().length;
        }
        long inner = 1;
        for (int d = axis + 1; d < x.dims().length; d++) {
            inner *= x.dims()[d];
        }
        long channels = scale.elementCount();
        ByteBuffer q = ByteBuffer.wrap(x.data()).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer scales = ByteBuffer.wrap(scale.data()).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer zeros = zero == null ? null : ByteBuffer.wrap(zero.data()).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocate((int) count * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            int c = channels == 1 ? 0 : (int) ((i / inner) % channels);
            long value = integer(x.dataType(), q, i);
            long zp = zeros == null ? 0 : integer(zero.dataType(), zeros, c);
            out.putFloat(i * 4, (float) ((value - zp) * scales.getFloat(c * 4)));
        }
        return new OnnxModel.Initializer(x.name(), OnnxReader.FLOAT, x.dims(), out.array());
    }

    private static long integer(int dataType, ByteBuffer b, int index) {
        return switch (dataType) {
            case OnnxReader.INT8 -> b.get(index);
            case OnnxReader.UINT8 -> b.get(index) & 0xff;
            case OnnxReader.INT32 -> b.getInt(index * 4);
            default -> throw new IllegalArgumentException("quantized data of ONNX data type " + dataType
                    + " is not supported (int8, uint8, int32 are)");
        };
    }

    private void arithmetic(OnnxModel.Node n, Arithmetic.Op op) {
        OnnxModel.Initializer left = constant(n, 0);
        OnnxModel.Initializer right = constant(n, 1);
        if (left != null && right != null) {
            problems.add(n.describe() + ": both operands are constants (fold them before export)");
            return;
        }
        String name = nameFor(n, null);
        if (left == null && right == null) {
            if (op == Arithmetic.Op.ADD) {
                add(n, new Add(name), 2);
            } else {
                add(n, Arithmetic.of(name, op), 2);
            }
            return;
        }
        OnnxModel.Initializer c = left != null ? left : right;
        if (c.dataType() != OnnxReader.FLOAT) {
            problems.add(n.describe() + ": constant '" + c.name() + "' has ONNX data type " + c.dataType() + " (float expected)");
            return;
        }
        Tensor value = floats(c, params.allocator());
        boolean constantFirst = left != null;
        OnnxModel.Node oneInput = new OnnxModel.Node(n.name(), n.opType(), n.domain(),
                List.of(n.inputs().get(constantFirst ? 1 : 0)), n.outputs(), n.attributes());
        add(oneInput, Arithmetic.withConstant(name, op, value, constantFirst), 1);
    }

    private void layerNorm(OnnxModel.Node n) {
        long axis = n.intAttribute("axis", -1);
        OnnxModel.Initializer scale = requireConstant(n, 1, "scale");
        OnnxModel.Initializer bias = n.inputs().size() > 2 && !n.inputs().get(2).isEmpty() ? requireConstant(n, 2, "B") : null;
        if (scale == null) {
            return;
        }
        if (axis != -1 || scale.dims().length != 1) {
            problems.add(n.describe() + ": attribute axis=" + axis + " with scale " + Arrays.toString(scale.dims())
                    + " is not supported (normalizing the last axis is)");
            return;
        }
        if (bias == null) {
            problems.add(n.describe() + ": needs a bias input B");
            return;
        }
        String name = nameFor(n, scale.name());
        add(n, new LayerNorm(params, name, (int) scale.dims()[0], n.floatAttribute("epsilon", 1e-5f)), 1);
        weights.put(name + ".weight", scale);
        weights.put(name + ".bias", bias);
    }

    private OnnxModel.Initializer requireInt64(OnnxModel.Node n, int input, String what) {
        OnnxModel.Initializer c = constant(n, input);
        if (c == null || c.dataType() != OnnxReader.INT64) {
            problems.add(n.describe() + ": input " + what + " must be an int64 constant");
            return null;
        }
        return c;
    }

    private static long[] longs(OnnxModel.Initializer c) {
        if (c == null) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(c.data()).order(ByteOrder.LITTLE_ENDIAN);
        long[] out = new long[(int) c.elementCount()];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.getLong();
        }
        return out;
    }

    /** A float scalar constant input, or NaN after reporting. */
    private double scalar(OnnxModel.Node n, int input, String what) {
        OnnxModel.Initializer c = constant(n, input);
        if (c == null || c.dataType() != OnnxReader.FLOAT || c.elementCount() != 1) {
            problems.add(n.describe() + ": input " + what + " must be a float scalar constant");
            return Double.NaN;
        }
        return ByteBuffer.wrap(c.data()).order(ByteOrder.LITTLE_ENDIAN).getFloat();
    }

    /** What Conv and ConvTranspose share: 4-D constant weights, an optional bias, symmetric geometry. */
    private record ConvGeometry(OnnxModel.Initializer weight, OnnxModel.Initializer bias, int groups, int stride,
                                int pad, int dilation) {
        int kernelH() {
            return (int) weight.dims()[2];
        }

        int kernelW() {
            return (int) weight.dims()[3];
        }
    }

    /** The node's convolution geometry, or null after reporting what is unsupported. */
    private ConvGeometry convGeometry(OnnxModel.Node n, String kind) {
        OnnxModel.Initializer w = requireConstant(n, 1, "weight");
        if (w == null) {
            return null;
        }
        if (w.dims().length != 4) {
            problems.add(n.describe() + ": weight of rank " + w.dims().length + " (only 2-D " + kind + " is supported)");
            return null;
        }
        OnnxModel.Initializer b = n.inputs().size() > 2 && !n.inputs().get(2).isEmpty() ? requireConstant(n, 2, "bias") : null;
        int stride = symmetric(n, "strides", 1);
        int pad = symmetric(n, "pads", 0);
        int dilation = symmetric(n, "dilations", 1);
        checkAutoPad(n);
        if (stride < 0 || pad < 0 || dilation < 0) {
            return null;
        }
        return new ConvGeometry(w, b, (int) n.intAttribute("group", 1), stride, pad, dilation);
    }

    private void addWeights(String layer, ConvGeometry g) {
        weights.put(layer + ".weight", g.weight());
        if (g.bias() != null) {
            weights.put(layer + ".bias", g.bias());
        }
    }

    private void conv(OnnxModel.Node n) {
        ConvGeometry g = convGeometry(n, "convolution");
        if (g == null) {
            return;
        }
        String name = nameFor(n, g.weight().name());
        int out = (int) g.weight().dims()[0];
        int in = (int) (g.weight().dims()[1] * g.groups());
        add(n, new Conv2d(params, name, in, out, g.kernelH(), g.kernelW(), g.stride(), g.pad(), g.dilation(), g.groups(),
                g.bias() != null), 1);
        addWeights(name, g);
        Int8Weights int8 = int8Constants.get(n.inputs().get(1));
        if (int8 != null && int8.dims().length == 4) {
            int8Layers.put(name, int8);
        }
    }

    /** ConvTranspose as PyTorch exports it: explicit symmetric pads and output_padding, no output_shape. */
    private void convTranspose(OnnxModel.Node n) {
        if (n.attribute("output_shape") != null) {
            problems.add(n.describe() + ": attribute output_shape is not supported (give pads and output_padding)");
            return;
        }
        ConvGeometry g = convGeometry(n, "transposed convolution");
        int outputPadding = symmetric(n, "output_padding", 0);
        if (g == null || outputPadding < 0) {
            return;
        }
        String name = nameFor(n, g.weight().name());
        int in = (int) g.weight().dims()[0];
        int out = (int) (g.weight().dims()[1] * g.groups());
        add(n, new ConvTranspose2d(params, name, in, out, g.kernelH(), g.kernelW(), g.stride(), g.pad(), g.dilation(),
                g.groups(), outputPadding, g.bias() != null), 1);
        addWeights(name, g);
    }

    private void gemm(OnnxModel.Node n) {
        OnnxModel.Initializer w = requireConstant(n, 1, "B");
        if (w == null) {
            return;
        }
        if (n.intAttribute("transA", 0) != 0 || n.floatAttribute("alpha", 1f) != 1f || n.floatAttribute("beta", 1f) != 1f) {
            problems.add(n.describe() + ": attributes transA=" + n.intAttribute("transA", 0) + ", alpha="
                    + n.floatAttribute("alpha", 1f) + ", beta=" + n.floatAttribute("beta", 1f)
                    + " are not supported (transA=0, alpha=1, beta=1 are)");
            return;
        }
        OnnxModel.Initializer c = n.inputs().size() > 2 && !n.inputs().get(2).isEmpty() ? requireConstant(n, 2, "C") : null;
        boolean transB = n.intAttribute("transB", 0) == 1;
        String layer = linear(n, transB ? w : transpose(w), c);
        Int8Weights int8 = int8Constants.get(n.inputs().get(1));
        if (layer != null && transB && int8 != null) {
            int8Layers.put(layer, int8);   // B is (out, in) as QuantizedLinear keeps its weights
        }
    }

    /**
     * Gather of rows from a constant 2-D table, as PyTorch exports {@code nn.Embedding}: an
     * {@link Embedding} layer that reads the indices (int32 in StreamDL) and owns the table.
     */
    private void gather(OnnxModel.Node n) {
        OnnxModel.Initializer table = requireConstant(n, 0, "data");
        if (table == null) {
            return;
        }
        long axis = n.intAttribute("axis", 0);
        if (axis != 0 || table.dims().length != 2) {
            problems.add(n.describe() + ": Gather imports as an embedding (rows of a 2-D constant table, axis 0) but has axis "
                    + axis + " and a table of shape " + Arrays.toString(table.dims()));
            return;
        }
        if (constant(n, 1) != null) {
            problems.add(n.describe() + ": constant indices are not supported (fold the lookup into a constant)");
            return;
        }
        String name = nameFor(n, table.name());
        addReading(n, new Embedding(params, name, (int) table.dims()[0], (int) table.dims()[1]), 1);
        weights.put(name + ".weight", table);
    }

    private void matMul(OnnxModel.Node n) {
        OnnxModel.Initializer w = requireConstant(n, 1, "B");
        if (w != null) {
            linear(n, transpose(w), null);   // MatMul weights are (in, out): they stay float32
        }
    }

    /** Adds a Linear layer and returns its name, or null after reporting a problem. */
    private String linear(OnnxModel.Node n, OnnxModel.Initializer outByIn, OnnxModel.Initializer bias) {
        if (outByIn.dims().length != 2) {
            problems.add(n.describe() + ": weight of rank " + outByIn.dims().length + " (2 expected)");
            return null;
        }
        if (bias != null && (bias.dims().length != 1 || bias.dims()[0] != outByIn.dims()[0])) {
            problems.add(n.describe() + ": bias of shape " + Arrays.toString(bias.dims()) + " (expected ["
                    + outByIn.dims()[0] + "])");
            return null;
        }
        String name = nameFor(n, outByIn.name());
        add(n, new Linear(params, name, (int) outByIn.dims()[1], (int) outByIn.dims()[0], bias != null), 1);
        weights.put(name + ".weight", outByIn);
        if (bias != null) {
            weights.put(name + ".bias", bias);
        }
        return name;
    }

    private void pool(OnnxModel.Node n) {
        long[] kernel = n.intsAttribute("kernel_shape", new long[0]);
        if (kernel.length != 2 || kernel[0] != kernel[1]) {
            problems.add(n.describe() + ": kernel_shape " + Arrays.toString(kernel) + " is not supported (square 2-D is)");
            return;
        }
        if (n.intAttribute("ceil_mode", 0) != 0) {
            problems.add(n.describe() + ": attribute ceil_mode=1 is not supported");
            return;
        }
        int stride = symmetric(n, "strides", 1);
        int pad = symmetric(n, "pads", 0);
        int dilation = symmetric(n, "dilations", 1);
        checkAutoPad(n);
        boolean max = n.opType().equals("MaxPool");
        if (dilation > 1) {
            problems.add(n.describe() + ": attribute dilations > 1 is not supported for pooling");
            return;
        }
        if (!max && pad > 0 && n.intAttribute("count_include_pad", 0) == 0) {
            problems.add(n.describe() + ": padded average pooling with count_include_pad=0 is not supported");
            return;
        }
        if (stride < 0 || pad < 0) {
            return;
        }
        add(n, new Pool2d(nameFor(n, null), max ? Pool2dSpec.Kind.MAX : Pool2dSpec.Kind.AVG, (int) kernel[0], stride, pad), 1);
    }

    private void reshape(OnnxModel.Node n) {
        OnnxModel.Initializer shape = requireConstant(n, 1, "shape");
        if (shape == null) {
            return;
        }
        ByteBuffer b = ByteBuffer.wrap(shape.data()).order(ByteOrder.LITTLE_ENDIAN);
        long[] dims = new long[(int) shape.elementCount()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = b.getLong();
        }
        if (dims.length < 1 || (dims[0] != 0 && dims[0] != -1)) {
            problems.add(n.describe() + ": shape " + Arrays.toString(dims) + " changes the batch axis (only per-sample reshapes are supported)");
            return;
        }
        long[] perSample = Arrays.copyOfRange(dims, 1, dims.length);
        for (long d : perSample) {
            if (d == 0 || d < -1) {
                problems.add(n.describe() + ": shape " + Arrays.toString(dims) + " copies or hides a per-sample extent (0), which is not supported");
                return;
            }
        }
        add(n, new Reshape(nameFor(n, null), perSample), 1);
    }

    private void batchNorm(OnnxModel.Node n) {
        OnnxModel.Initializer scale = requireConstant(n, 1, "scale");
        OnnxModel.Initializer bias = requireConstant(n, 2, "B");
        OnnxModel.Initializer mean = requireConstant(n, 3, "input_mean");
        OnnxModel.Initializer var = requireConstant(n, 4, "input_var");
        if (scale == null || bias == null || mean == null || var == null) {
            return;
        }
        String name = nameFor(n, scale.name());
        add(n, new BatchNorm(params, name, (int) scale.dims()[0], n.floatAttribute("epsilon", 1e-5f), 0.1), 1);
        weights.put(name + ".weight", scale);
        weights.put(name + ".bias", bias);
        weights.put(name + ".running_mean", mean);
        weights.put(name + ".running_var", var);
    }

    private void add(OnnxModel.Node n, Layer layer, int dataInputs) {
        int[] first = new int[dataInputs];
        for (int i = 0; i < dataInputs; i++) {
            first[i] = i;
        }
        addReading(n, layer, first);
    }

    /** Adds a layer whose inputs are the node's inputs at {@code inputIndices}, in that order. */
    private void addReading(OnnxModel.Node n, Layer layer, int... inputIndices) {
        List<String> inputs = new ArrayList<>();
        for (int i : inputIndices) {
            String value = n.inputs().get(i);
            String node = nodeOf.get(value);
            if (node == null) {
                problems.add(n.describe() + ": reads '" + value + "', which no earlier node produces");
                return;
            }
            inputs.add(node);
        }
        layers.add(layer);
        layerInputs.add(inputs);
        nodeOf.put(n.outputs().get(0), layer.name());
    }

    /** A layer name: the PyTorch module name of its weight when it has one, else the node's name or output. */
    private String nameFor(OnnxModel.Node n, String weightName) {
        String base = weightName != null && weightName.endsWith(".weight")
                ? weightName.substring(0, weightName.length() - ".weight".length())
                : !n.name().isEmpty() ? n.name() : n.outputs().get(0);
        String name = base;
        for (int i = 2; !usedNames.add(name); i++) {
            name = base + "_" + i;
        }
        return name;
    }

    private OnnxModel.Initializer constant(OnnxModel.Node n, int input) {
        return input < n.inputs().size() ? constants.get(n.inputs().get(input)) : null;
    }

    private OnnxModel.Initializer requireConstant(OnnxModel.Node n, int input, String what) {
        OnnxModel.Initializer c = constant(n, input);
        if (c == null) {
            problems.add(n.describe() + ": input " + what + " must be a constant (an initializer)");
            return null;
        }
        if (what.equals("shape") ? c.dataType() != OnnxReader.INT64 : c.dataType() != OnnxReader.FLOAT) {
            problems.add(n.describe() + ": input " + what + " '" + c.name() + "' has ONNX data type " + c.dataType()
                    + " (expected " + (what.equals("shape") ? "int64" : "float") + ")");
            return null;
        }
        return c;
    }

    /** The single value of a per-axis attribute that must be the same on every axis, or -1 after reporting. */
    private int symmetric(OnnxModel.Node n, String attribute, int fallback) {
        long[] values = n.intsAttribute(attribute, null);
        if (values == null || values.length == 0) {
            return fallback;
        }
        for (long v : values) {
            if (v != values[0]) {
                problems.add(n.describe() + ": attribute " + attribute + "=" + Arrays.toString(values)
                        + " is not supported (equal values on every axis are)");
                return -1;
            }
        }
        return (int) values[0];
    }

    private void checkAutoPad(OnnxModel.Node n) {
        OnnxModel.Attribute autoPad = n.attribute("auto_pad");
        if (autoPad != null && autoPad.s() != null && !new String(autoPad.s()).equals("NOTSET")) {
            problems.add(n.describe() + ": attribute auto_pad=" + new String(autoPad.s()) + " is not supported (explicit pads are)");
        }
    }

    private static OnnxModel.Initializer transpose(OnnxModel.Initializer w) {
        if (w.dims().length != 2) {
            return w; // reported by the caller
        }
        int rows = (int) w.dims()[0];
        int cols = (int) w.dims()[1];
        ByteBuffer in = ByteBuffer.wrap(w.data()).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocate(w.data().length).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                out.putFloat((c * rows + r) * 4, in.getFloat((r * cols + c) * 4));
            }
        }
        return new OnnxModel.Initializer(w.name(), w.dataType(), new long[] {cols, rows}, out.array());
    }

    private static Tensor floats(OnnxModel.Initializer init, Allocator allocator) {
        return TensorBytes.readRaw(ByteBuffer.wrap(init.data()).order(ByteOrder.LITTLE_ENDIAN), DType.FLOAT32,
                Shape.of(init.dims()), allocator);
    }

    /** Which operators of {@code onnx} import, by op type: count and supported or not. */
    public static Map<String, int[]> coverage(OnnxModel onnx) {
        Map<String, int[]> counts = new TreeMap<>();
        for (OnnxModel.Node n : onnx.nodes()) {
            counts.computeIfAbsent(n.opType(), k -> new int[2])[0]++;
            if (SUPPORTED.contains(n.opType()) && (n.domain().isEmpty() || n.domain().equals("ai.onnx"))) {
                counts.get(n.opType())[1]++;
            }
        }
        return counts;
    }
}
