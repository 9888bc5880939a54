package org.streamdl.dnn.layers;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.NamedTensor;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Elementwise;

/**
 * A network of named nodes, each a layer reading the outputs of earlier nodes or the graph's
 * inputs: residual blocks, branches, several inputs and outputs. Nodes run in the order they were
 * added (which the builder checks is topological); backward runs in reverse and sums the gradients
 * of values read by more than one node.
 *
 * <pre>{@code
 * Graph block = Graph.builder("block", "x")
 *     .add(new Linear(p, "fc1", 64, 64), "x")
 *     .add(new Relu("relu"), "fc1")
 *     .add(new Add("residual"), "relu", "x")
 *     .outputs("residual")
 *     .build();
 * }</pre>
 */
public final class Graph implements Layer {
    private record Node(String name, Layer layer, List<String> inputs) {}

    private final String name;
    private final List<String> inputs;
    private final List<String> outputs;
    private final List<Node> nodes;

    private Graph(String name, List<String> inputs, List<String> outputs, List<Node> nodes) {
        this.name = name;
        this.inputs = List.copyOf(inputs);
        this.outputs = List.copyOf(outputs);
        this.nodes = List.copyOf(nodes);
    }

    public static Builder builder(String name, String... inputs) {
        return new Builder(name, List.of(inputs));
    }

    public List<String> inputNames() {
        return inputs;
    }

    public List<String> outputNames() {
        return outputs;
    }

    /** Runs every node; returns the graph's outputs by name. */
    public Map<String, Tensor> forward(Map<String, Tensor> feeds, Context ctx) {
        Map<String, Tensor> values = new HashMap<>();
        for (String in : inputs) {
            Tensor t = feeds.get(in);
            Checks.argument(t != null, "graph '%s': input '%s' was not given (given: %s)", name, in, feeds.keySet());
            values.put(in, t);
        }
        for (Node node : nodes) {
            List<Tensor> args = new ArrayList<>();
            for (String in : node.inputs()) {
                args.add(values.get(in));
            }
            Tensor out = node.layer() instanceof MultiInputLayer multi
                    ? multi.forward(args, ctx)
                    : node.layer().forward(args.get(0), ctx);
            values.put(node.name(), out);
        }
        Map<String, Tensor> result = new LinkedHashMap<>();
        for (String out : outputs) {
            result.put(out, values.get(out));
        }
        return result;
    }

    /** Gradients of the graph's inputs (null where nothing flows) from gradients of its outputs. */
    public Map<String, Tensor> backward(Map<String, Tensor> outputGradients, Context ctx) {
        Map<String, Tensor> grads = new HashMap<>(outputGradients);
        for (int i = nodes.size() - 1; i >= 0; i--) {
            Node node = nodes.get(i);
            Tensor dy = grads.remove(node.name());
            if (dy == null) {
                continue;   // this node does not reach an output
            }
            List<Tensor> dx = node.layer() instanceof MultiInputLayer multi
                    ? multi.backwardAll(dy, ctx)
                    : java.util.Collections.singletonList(node.layer().backward(dy, ctx));
            for (int k = 0; k < node.inputs().size(); k++) {
                Tensor g = dx.get(k);
                if (g != null) {
                    grads.merge(node.inputs().get(k), g, (a, b) -> Elementwise.add(a, b, ctx.step()));
                }
            }
        }
        Map<String, Tensor> result = new LinkedHashMap<>();
        for (String in : inputs) {
            result.put(in, grads.get(in));
        }
        return result;
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        Checks.state(inputs.size() == 1 && outputs.size() == 1,
                "graph '%s' has inputs %s and outputs %s; use forward(Map, Context)", name, inputs, outputs);
        return forward(Map.of(inputs.get(0), x), ctx).get(outputs.get(0));
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Checks.state(inputs.size() == 1 && outputs.size() == 1,
                "graph '%s' has inputs %s and outputs %s; use backward(Map, Context)", name, inputs, outputs);
        return backward(Map.of(outputs.get(0), dy), ctx).get(inputs.get(0));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> all = new ArrayList<>();
        for (Node node : nodes) {
            all.addAll(node.layer().parameters());
        }
        return all;
    }

    @Override
    public List<NamedTensor> buffers() {
        List<NamedTensor> all = new ArrayList<>();
        for (Node node : nodes) {
            all.addAll(node.layer().buffers());
        }
        return all;
    }

    /** Children are the nodes' configs, each with its inputs under {@code graph.inputs}. */
    @Override
    public LayerConfig config() {
        List<LayerConfig> children = new ArrayList<>();
        for (Node node : nodes) {
            LayerConfig c = node.layer().config();
            Map<String, String> attributes = new LinkedHashMap<>(c.attributes());
            attributes.put("graph.inputs", String.join(",", node.inputs()));
            children.add(new LayerConfig(c.type(), c.name(), attributes, c.children()));
        }
        return new LayerConfig("Graph", name,
                Map.of("inputs", String.join(",", inputs), "outputs", String.join(",", outputs)), children);
    }

    static Graph fromConfig(LayerConfig config, ParameterFactory params) {
        Builder b = new Builder(config.name(), split(config.attributes().get("inputs")));
        for (LayerConfig child : config.children()) {
            Map<String, String> attributes = new LinkedHashMap<>(child.attributes());
            String nodeInputs = attributes.remove("graph.inputs");
            Checks.argument(nodeInputs != null, "graph '%s': node '%s' names no inputs", config.name(), child.name());
            Layer layer = LayerRegistry.build(new LayerConfig(child.type(), child.name(), attributes, child.children()), params);
            b.add(layer, split(nodeInputs).toArray(new String[0]));
        }
        return b.outputs(split(config.attributes().get("outputs")).toArray(new String[0])).build();
    }

    private static List<String> split(String names) {
        Checks.argument(names != null && !names.isEmpty(), "a graph needs named inputs and outputs");
        return List.of(names.split(","));
    }

    public static final class Builder {
        private final String name;
        private final List<String> inputs;
        private final List<Node> nodes = new ArrayList<>();
        private final Set<String> known = new HashSet<>();
        private List<String> outputs = List.of();

        private Builder(String name, List<String> inputs) {
            Checks.argument(!inputs.isEmpty(), "graph '%s' needs at least one input", name);
            this.name = name;
            this.inputs = inputs;
            for (String in : inputs) {
                Checks.argument(known.add(in), "graph '%s': input '%s' is named twice", name, in);
            }
        }

        /** Adds a node named after the layer, reading the named earlier values. */
        public Builder add(Layer layer, String... nodeInputs) {
            Checks.argument(nodeInputs.length > 0, "graph '%s': node '%s' needs inputs", name, layer.name());
            Checks.argument(nodeInputs.length == 1 || layer instanceof MultiInputLayer,
                    "graph '%s': node '%s' takes one input but %s were given", name, layer.name(), nodeInputs.length);
            for (String in : nodeInputs) {
                Checks.argument(known.contains(in), "graph '%s': node '%s' reads '%s', which is neither an input nor an"
                        + " earlier node", name, layer.name(), in);
            }
            Checks.argument(known.add(layer.name()), "graph '%s': the name '%s' is used twice", name, layer.name());
            nodes.add(new Node(layer.name(), layer, List.of(nodeInputs)));
            return this;
        }

        public Builder outputs(String... names) {
            for (String out : names) {
                Checks.argument(known.contains(out), "graph '%s': output '%s' is not a node or input", name, out);
            }
            this.outputs = List.of(names);
            return this;
        }

        public Graph build() {
            Checks.argument(!outputs.isEmpty(), "graph '%s' needs at least one output", name);
            return new Graph(name, inputs, outputs, nodes);
        }
    }
}
