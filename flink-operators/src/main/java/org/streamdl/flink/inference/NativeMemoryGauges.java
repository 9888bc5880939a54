package org.streamdl.flink.inference;

import java.util.function.Supplier;
import org.apache.flink.metrics.MetricGroup;
import org.streamdl.dnn.model.Model;

/**
 * The native memory of an operator's model as Flink gauges, so a TaskManager's off-heap use can be
 * watched and sized (docs/operations.md): {@code nativeHeldBytes}, the direct memory the model's
 * tensors and plans hold; {@code nativePooledBytes}, freed buffers the model's tree keeps for reuse;
 * {@code nativePlans}, the prepared kernels it caches. They read 0 while there is no model.
 */
public final class NativeMemoryGauges {
    private NativeMemoryGauges() {}

    /** Registers the gauges on {@code group}; {@code model} is read at each report, from the reporter's thread. */
    public static void register(MetricGroup group, Supplier<Model> model) {
        group.gauge("nativeHeldBytes", () -> {
            Model m = model.get();
            return m == null ? 0L : m.allocator().usedBytes();
        });
        group.gauge("nativePooledBytes", () -> {
            Model m = model.get();
            return m == null ? 0L : m.allocator().pooledBytes();
        });
        group.gauge("nativePlans", () -> {
            Model m = model.get();
            return m == null ? 0 : m.kernels().planCount();
        });
    }
}
