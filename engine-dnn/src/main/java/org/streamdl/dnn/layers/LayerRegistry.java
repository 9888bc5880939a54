package org.streamdl.dnn.layers;

import java.util.ArrayList;
import java.util.List;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.tensor.spi.Pool2dSpec;

/** Rebuilds layers from their {@link LayerConfig}s: how a model file's architecture becomes a network. */
public final class LayerRegistry {
    public static final List<String> TYPES = List.of("Linear", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool2d", "GlobalAvgPool2d",
            "ReLU", "LeakyReLU", "GELU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Dropout", "Flatten", "Reshape",
            "Identity", "BatchNorm", "LayerNorm", "Embedding", "Sequential", "Graph", "Add", "Concat", "Arithmetic",
            "Transpose", "Squeeze", "Unsqueeze", "Clip", "Erf", "FakeQuantize", "QuantizedLinear", "QuantizedConv2d", "Bfloat16Linear");

    private LayerRegistry() {}

    /** A layer for {@code config}, its parameters created (and initialized) by {@code params}. */
    public static Layer build(LayerConfig config, ParameterFactory params) {
        String name = config.name();
        return switch (config.type()) {
            case "Linear" -> new Linear(params, name, (int) config.longAttribute("in"), (int) config.longAttribute("out"),
                    config.booleanAttribute("bias"));
            case "Conv2d" -> new Conv2d(params, name, (int) config.longAttribute("in"), (int) config.longAttribute("out"),
                    (int) config.longAttribute("kernelH"), (int) config.longAttribute("kernelW"),
                    (int) config.longAttribute("stride"), (int) config.longAttribute("padding"),
                    (int) config.longAttribute("dilation"), (int) config.longAttribute("groups"),
                    config.booleanAttribute("bias"));
            case "ConvTranspose2d" -> new ConvTranspose2d(params, name, (int) config.longAttribute("in"),
                    (int) config.longAttribute("out"), (int) config.longAttribute("kernelH"),
                    (int) config.longAttribute("kernelW"), (int) config.longAttribute("stride"),
                    (int) config.longAttribute("padding"), (int) config.longAttribute("dilation"),
                    (int) config.longAttribute("groups"), (int) config.longAttribute("outputPadding"),
                    config.booleanAttribute("bias"));
            case "MaxPool2d", "AvgPool2d" -> new Pool2d(name,
                    config.type().equals("MaxPool2d") ? Pool2dSpec.Kind.MAX : Pool2dSpec.Kind.AVG,
                    (int) config.longAttribute("kernel"), (int) config.longAttribute("stride"),
                    (int) config.longAttribute("padding"));
            case "GlobalAvgPool2d" -> new GlobalAvgPool2d(name);
            case "ReLU" -> new Relu(name);
            case "LeakyReLU" -> Activation.leakyRelu(name, config.doubleAttribute("negativeSlope"));
            case "GELU" -> Activation.gelu(name);
            case "Sigmoid" -> Activation.sigmoid(name);
            case "Tanh" -> Activation.tanh(name);
            case "Identity" -> Activation.identity(name);
            case "Softmax" -> Softmax.softmax(name);
            case "LogSoftmax" -> Softmax.logSoftmax(name);
            case "Dropout" -> new Dropout(name, config.doubleAttribute("p"));
            case "Reshape" -> new Reshape(name, Reshape.parse(config.attributes().getOrDefault("shape", "")));
            case "Flatten" -> new Flatten(name);
            case "BatchNorm" -> new BatchNorm(params, name, (int) config.longAttribute("channels"),
                    config.doubleAttribute("epsilon"), config.doubleAttribute("momentum"));
            case "LayerNorm" -> new LayerNorm(params, name, (int) config.longAttribute("features"),
                    config.doubleAttribute("epsilon"));
            case "Embedding" -> new Embedding(params, name, (int) config.longAttribute("vocabulary"),
                    (int) config.longAttribute("dim"));
            case "Graph" -> Graph.fromConfig(config, params);
            case "Add" -> new Add(name);
            case "Concat" -> new Concat(name, (int) config.longAttribute("axis"));
            case "Arithmetic" -> arithmetic(config, params);
            case "Transpose" -> new Transpose(name, ints(Reshape.parse(config.attributes().get("order"))));
            case "Squeeze" -> Squeeze.squeeze(name, ints(Reshape.parse(config.attributes().get("axes"))));
            case "Unsqueeze" -> Squeeze.unsqueeze(name, ints(Reshape.parse(config.attributes().get("axes"))));
            case "Clip" -> Activation.clip(name, config.doubleAttribute("low"), config.doubleAttribute("high"));
            case "Erf" -> Activation.erf(name);
            case "QuantizedLinear" -> quantizedLinear(config, params);
            case "QuantizedConv2d" -> quantizedConv2d(config, params);
            case "Bfloat16Linear" -> new Bfloat16Linear(name,
                    params.allocator().allocate(org.streamdl.tensor.DType.BFLOAT16, config.longAttribute("out"), config.longAttribute("in")),
                    config.booleanAttribute("bias") ? params.allocator().allocate(org.streamdl.tensor.DType.FLOAT32, config.longAttribute("out")) : null,
                    config.booleanAttribute("relu"));
            case "FakeQuantize" -> new FakeQuantize(name, config.doubleAttribute("scale"), config.longAttribute("zeroPoint"),
                    config.longAttribute("qmin"), config.longAttribute("qmax"));
            case "Sequential" -> {
                List<Layer> children = new ArrayList<>();
                for (LayerConfig child : config.children()) {
                    children.add(build(child, params));
                }
                yield new Sequential(name, children);
            }
            default -> throw new IllegalArgumentException("layer '" + name + "' has unknown type '" + config.type()
                    + "'; this version knows " + TYPES);
        };
    }

    private static int[] ints(long[] values) {
        return java.util.Arrays.stream(values).mapToInt(Math::toIntExact).toArray();
    }

    /** The int8 weights, scales and bias are buffers: allocated here, filled when the file's tensors load. */
    private static Layer quantizedLinear(LayerConfig c, ParameterFactory params) {
        int in = (int) c.longAttribute("in");
        int out = (int) c.longAttribute("out");
        org.streamdl.tensor.Allocator a = params.allocator();
        org.streamdl.tensor.DType f32 = org.streamdl.tensor.DType.FLOAT32;
        return new QuantizedLinear(c.name(), a.allocate(org.streamdl.tensor.DType.INT8, out, in), a.allocate(f32, out),
                c.booleanAttribute("bias") ? a.allocate(f32, out) : null, c.booleanAttribute("relu"),
                (float) c.doubleAttribute("inputScale"), org.streamdl.tensor.DType.fromName(c.attributes().get("inputType")),
                (float) c.doubleAttribute("outputScale"), org.streamdl.tensor.DType.fromName(c.attributes().get("outputType")));
    }

    /** As {@link #quantizedLinear}: the geometry comes from the attributes, the tensors from the file. */
    private static Layer quantizedConv2d(LayerConfig c, ParameterFactory params) {
        int kernelH = (int) c.longAttribute("kernelH");
        int kernelW = (int) c.longAttribute("kernelW");
        int dilation = (int) c.longAttribute("dilation");
        long side = (long) Math.max(kernelH, kernelW) * dilation + 1;   // a placeholder: only the geometry is used
        org.streamdl.tensor.spi.Conv2dSpec geometry = org.streamdl.tensor.spi.Conv2dSpec
                .of(org.streamdl.tensor.Shape.of(1, c.longAttribute("in"), side, side), c.longAttribute("out"), kernelH, kernelW)
                .withStride(c.longAttribute("stride"), c.longAttribute("stride"))
                .withPadding(c.longAttribute("padding"), c.longAttribute("padding"))
                .withDilation(dilation, dilation).withGroups(c.longAttribute("groups"))
                .withBias(c.booleanAttribute("bias")).withRelu(c.booleanAttribute("relu"));
        org.streamdl.tensor.Allocator a = params.allocator();
        org.streamdl.tensor.DType f32 = org.streamdl.tensor.DType.FLOAT32;
        return new QuantizedConv2d(c.name(), geometry, a.allocate(org.streamdl.tensor.DType.INT8, geometry.weightShape()),
                a.allocate(f32, geometry.outChannels()), geometry.hasBias() ? a.allocate(f32, geometry.outChannels()) : null,
                (float) c.doubleAttribute("inputScale"), org.streamdl.tensor.DType.fromName(c.attributes().get("inputType")),
                (float) c.doubleAttribute("outputScale"), org.streamdl.tensor.DType.fromName(c.attributes().get("outputType")),
                (int) c.longAttribute("poolKernel"), (int) c.longAttribute("poolStride"));
    }

    /** The constant is allocated here and filled when the file's tensors load (it is a buffer). */
    private static Layer arithmetic(LayerConfig config, ParameterFactory params) {
        Arithmetic.Op op = Arithmetic.Op.valueOf(config.attributes().get("op"));
        String side = config.attributes().get("constant");
        if (side.equals("none")) {
            return Arithmetic.of(config.name(), op);
        }
        org.streamdl.tensor.Tensor constant = params.allocator().allocate(params.dtype(),
                org.streamdl.tensor.Shape.of(Reshape.parse(config.attributes().get("shape"))));
        return Arithmetic.withConstant(config.name(), op, constant, side.equals("left"));
    }
}
