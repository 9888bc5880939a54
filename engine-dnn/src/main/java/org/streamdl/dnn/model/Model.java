package org.streamdl.dnn.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.layers.Layer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/**
 * A network with the allocator that holds its parameters and the kernels it runs on. Closing the
 * model frees its parameters and native plans. Not thread-safe: one model per thread.
 */
public final class Model implements AutoCloseable {
    private final Layer network;
    private final Allocator allocator;
    private final Kernels kernels;
    private final Map<String, Parameter> byName = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();

    public Model(Layer network, Allocator allocator, Kernels kernels) {
        this.network = network;
        this.allocator = allocator;
        this.kernels = kernels;
        for (Parameter p : network.parameters()) {
            Checks.argument(byName.put(p.name(), p) == null, "two parameters are named '%s'", p.name());
        }
        for (org.streamdl.dnn.NamedTensor b : network.buffers()) {
            Checks.argument(!byName.containsKey(b.name()) && buffers.put(b.name(), b.value()) == null,
                    "two parameters or buffers are named '%s'", b.name());
        }
        network.skipInputGradient();   // nothing consumes the gradient of the model's input
    }

    public Layer network() {
        return network;
    }

    public Allocator allocator() {
        return allocator;
    }

    public Kernels kernels() {
        return kernels;
    }

    public List<Parameter> parameters() {
        return List.copyOf(byName.values());
    }

    public Parameter parameter(String name) {
        Parameter p = byName.get(name);
        Checks.argument(p != null, "model '%s' has no parameter '%s'; it has %s", network.name(), name, byName.keySet());
        return p;
    }

    /** Non-trainable state saved with the model, by name (running statistics). */
    public Map<String, Tensor> buffers() {
        return java.util.Collections.unmodifiableMap(buffers);
    }

    public long parameterCount() {
        long n = 0;
        for (Parameter p : byName.values()) {
            n += p.value().elementCount();
        }
        return n;
    }

    /** Inference: the network's output for {@code x}, allocated in {@code out}. */
    public Tensor predict(Tensor x, Allocator out) {
        try (Allocator step = allocator.newChild("predict", Long.MAX_VALUE / 4)) {
            Tensor y = network.forward(x, Context.inference(step, kernels));
            return Convert.to(y, y.dtype(), out);
        }
    }

    /** Copies {@code value} into the named parameter or buffer (loading weights from elsewhere). */
    public void load(String name, Tensor value) {
        Tensor target = buffers.containsKey(name) ? buffers.get(name) : parameter(name).value();
        Checks.argument(target.shape().equals(value.shape()),
                "'%s' is %s but the value given is %s", name, target.shape(), value.shape());
        Convert.copy(value, target);
    }

    @Override
    public void close() {
        kernels.close();
        allocator.close();
    }

    @Override
    public String toString() {
        return network + "\n" + parameterCount() + " parameters on " + kernels.backendName();
    }
}
