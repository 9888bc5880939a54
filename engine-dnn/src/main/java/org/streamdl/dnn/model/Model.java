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

    /**
     * A model of {@code network}, whose parameters live in {@code allocator} (the root of the model's
     * tree, see {@link #newMemory}); {@code kernels} plan in that tree from now on, and the model
     * closes both.
     */
    public Model(Layer network, Allocator allocator, Kernels kernels) {
        this.network = network;
        this.allocator = allocator;
        this.kernels = kernels;
        kernels.planIn(allocator);
        for (Parameter p : network.parameters()) {
            Checks.argument(byName.put(p.name(), p) == null, "two parameters are named '%s'", p.name());
        }
        for (org.streamdl.dnn.NamedTensor b : network.buffers()) {
            Checks.argument(!byName.containsKey(b.name()) && buffers.put(b.name(), b.value()) == null,
                    "two parameters or buffers are named '%s'", b.name());
        }
        network.skipInputGradient();   // nothing consumes the gradient of the model's input
    }

    /**
     * The root of a new model's allocator tree. Its limit is the JVM's direct memory limit, the most the
     * model could ever hold: what a model needs depends on the batch sizes it meets (see
     * docs/operations.md), and reaching the limit names the model's biggest holders.
     */
    public static Allocator newMemory(String modelName) {
        return Allocator.root(modelName, Allocator.directMemoryLimitBytes());
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

    /**
     * Inference: the network's output for {@code x} (samples along axis 0), allocated in {@code out}.
     *
     * <p>The batch runs padded with zero rows to {@link #inferenceBatchSize}, and the output keeps the
     * real rows: each input shape has plans of its own (primitives compiled for it, weights packed for
     * it), and a micro-batching scorer meets every batch size up to its maximum, which would keep
     * building plans (milliseconds each) and evicting them. Rows do not interact at inference, so the
     * padding changes no result; less than a third of a padded batch is padding.
     */
    public Tensor predict(Tensor x, Allocator out) {
        Checks.argument(x.rank() >= 1, "model '%s': predict takes a batch (N, ...) but got a scalar", network.name());
        long rows = x.shape().dim(0);
        long padded = inferenceBatchSize(rows);
        try (Allocator step = allocator.newChild("predict")) {
            Tensor input = x;
            if (padded != rows) {
                input = step.allocate(x.dtype(), x.shape().withDim(0, padded));
                Convert.copy(x, input.narrow(0, 0, rows));
            }
            Tensor y = network.forward(input, Context.inference(step, kernels));
            if (padded == rows) {
                return Convert.to(y, y.dtype(), out);
            }
            Checks.state(y.rank() >= 1 && y.shape().dim(0) == padded,
                    "model '%s': the output %s does not keep the batch of %s rows on its first axis", network.name(),
                    y.shape(), padded);
            return Convert.to(y.narrow(0, 0, rows), y.dtype(), out);
        }
    }

    /**
     * The batch size a batch of {@code rows} runs at: 1 to 4 as they are, then the next of 6, 8, 12, 16,
     * 24, 32, ... (a power of two or one and a half times one), so batches of 1 to 256 rows share 16
     * sizes.
     */
    public static long inferenceBatchSize(long rows) {
        Checks.argument(rows >= 0, "a batch cannot have %s rows", rows);
        if (rows <= 4) {
            return rows;
        }
        long power = Long.highestOneBit(rows);
        if (rows == power) {
            return rows;
        }
        return rows <= power + power / 2 ? power + power / 2 : power * 2;
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
