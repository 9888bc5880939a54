package org.streamdl.dnn.layers;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.Parameter;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;

/**
 * Layers applied in order. A {@link Relu} that follows a layer able to fuse it ({@link FusesRelu})
 * is fused into that layer: the ReLU stays in the list (and in the model file) but is skipped.
 */
public final class Sequential implements Layer {
    private final String name;
    private final List<Layer> layers;
    private final boolean[] skipped;

    public Sequential(String name, List<Layer> layers) {
        Checks.argument(!layers.isEmpty(), "%s: a Sequential needs at least one layer", name);
        this.name = name;
        this.layers = List.copyOf(layers);
        this.skipped = new boolean[layers.size()];
        Set<String> names = new HashSet<>();
        for (Layer layer : layers) {
            Checks.argument(names.add(layer.name()), "%s: two layers are named '%s'", name, layer.name());
        }
        for (int i = 1; i < layers.size(); i++) {
            if (layers.get(i) instanceof Relu && layers.get(i - 1) instanceof FusesRelu fusing && !skipped[i - 1]) {
                fusing.fuseRelu();
                skipped[i] = true;
            }
        }
        // a convolution (and its fused ReLU) followed by pooling runs as one block
        for (int i = 0; i < layers.size(); i++) {
            if (layers.get(i) instanceof Conv2d conv) {
                int next = i + 1;
                while (next < layers.size() && skipped[next]) {
                    next++;
                }
                if (next < layers.size() && layers.get(next) instanceof Pool2d pool && conv.fusePool(pool)) {
                    skipped[next] = true;
                }
            }
        }
    }

    public static Sequential of(String name, Layer... layers) {
        return new Sequential(name, List.of(layers));
    }

    public List<Layer> layers() {
        return layers;
    }

    @Override
    public Tensor forward(Tensor x, Context ctx) {
        Tensor h = x;
        for (int i = 0; i < layers.size(); i++) {
            if (!skipped[i]) {
                h = layers.get(i).forward(h, ctx);
            }
        }
        return h;
    }

    /**
     * Forward, telling {@code observer} the input of every layer that runs (by its index in
     * {@link #layers()}); layers fused into their predecessor do not run and are not reported.
     */
    public Tensor forwardObserving(Tensor x, Context ctx, java.util.function.BiConsumer<Integer, Tensor> observer) {
        Tensor h = x;
        for (int i = 0; i < layers.size(); i++) {
            if (!skipped[i]) {
                observer.accept(i, h);
                h = layers.get(i).forward(h, ctx);
            }
        }
        return h;
    }

    @Override
    public Tensor backward(Tensor dy, Context ctx) {
        Tensor g = dy;
        for (int i = layers.size() - 1; i >= 0 && g != null; i--) {
            if (!skipped[i]) {
                g = layers.get(i).backward(g, ctx);
            }
        }
        return g;
    }

    @Override
    public void skipInputGradient() {
        layers.get(0).skipInputGradient();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public List<Parameter> parameters() {
        List<Parameter> all = new ArrayList<>();
        for (Layer layer : layers) {
            all.addAll(layer.parameters());
        }
        return all;
    }

    @Override
    public List<org.streamdl.dnn.NamedTensor> buffers() {
        List<org.streamdl.dnn.NamedTensor> all = new ArrayList<>();
        for (Layer layer : layers) {
            all.addAll(layer.buffers());
        }
        return all;
    }

    @Override
    public LayerConfig config() {
        List<LayerConfig> children = new ArrayList<>();
        for (Layer layer : layers) {
            children.add(layer.config());
        }
        return new LayerConfig("Sequential", name, java.util.Map.of(), children);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(name).append(" (Sequential)");
        for (Layer layer : layers) {
            sb.append("\n  ").append(layer);
        }
        return sb.toString();
    }
}
