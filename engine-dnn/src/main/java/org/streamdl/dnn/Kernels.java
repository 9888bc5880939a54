package org.streamdl.dnn;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.streamdl.dnn.dnnl.DnnlBackend;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.reference.ReferenceBackend;
import org.streamdl.tensor.spi.Backend;
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.Conv2dSpec;
import org.streamdl.tensor.spi.ConvPoolPlan;
import org.streamdl.tensor.spi.ConvPoolSpec;
import org.streamdl.tensor.spi.MatmulPlan;
import org.streamdl.tensor.spi.MatmulSpec;
import org.streamdl.tensor.spi.Pool2dPlan;
import org.streamdl.tensor.spi.Pool2dSpec;

/**
 * The plans a model runs on: each spec is planned once on the preferred backend (oneDNN when it
 * loads), falling back to the reference backend for a spec it declines, and kept until
 * {@link #close()}. Confined to one thread, like the model that owns it.
 */
public final class Kernels implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Kernels.class);

    /** Which backend to prefer. */
    public enum Preference { BEST, REFERENCE }

    private final Backend primary;
    private final ReferenceBackend reference;
    private final Map<Object, AutoCloseable> plans = new HashMap<>();
    private final Set<Class<?>> declinedKinds = new HashSet<>();
    private boolean closed;

    private Kernels(Backend primary, ReferenceBackend reference) {
        this.primary = primary;
        this.reference = reference;
    }

    /** oneDNN when it loads, otherwise the reference kernels; {@code threads} per plan. */
    public static Kernels create(int threads) {
        return create(threads, Preference.BEST);
    }

    public static Kernels create(int threads, Preference preference) {
        Checks.argument(threads >= 1, "threads must be >= 1 but was %s", threads);
        ReferenceBackend reference = ReferenceBackend.create(threads);
        if (preference == Preference.BEST) {
            Optional<DnnlBackend> dnnl = DnnlBackend.create(threads);
            if (dnnl.isPresent()) {
                return new Kernels(dnnl.get(), reference);
            }
        }
        return new Kernels(reference, reference);
    }

    /** {@code dnnl} or {@code reference}. */
    public String backendName() {
        return primary.name();
    }

    public int threads() {
        return primary.threads();
    }

    public MatmulPlan matmul(MatmulSpec spec) {
        return plan(spec, MatmulPlan.class, s -> primary.planMatmul(spec), () -> reference.planMatmul(spec).orElseThrow());
    }

    public Conv2dPlan conv2d(Conv2dSpec spec) {
        return plan(spec, Conv2dPlan.class, s -> primary.planConv2d(spec), () -> reference.planConv2d(spec).orElseThrow());
    }

    public Pool2dPlan pool2d(Pool2dSpec spec) {
        return plan(spec, Pool2dPlan.class, s -> primary.planPool2d(spec), () -> reference.planPool2d(spec).orElseThrow());
    }

    public org.streamdl.tensor.spi.QuantizedMatmulPlan quantizedMatmul(org.streamdl.tensor.spi.QuantizedMatmulSpec spec) {
        return plan(spec, org.streamdl.tensor.spi.QuantizedMatmulPlan.class, s -> primary.planQuantizedMatmul(spec),
                () -> reference.planQuantizedMatmul(spec).orElseThrow());
    }

    public org.streamdl.tensor.spi.QuantizedConvPlan quantizedConv(org.streamdl.tensor.spi.QuantizedConvSpec spec) {
        return plan(spec, org.streamdl.tensor.spi.QuantizedConvPlan.class, s -> primary.planQuantizedConv(spec),
                () -> reference.planQuantizedConv(spec).orElseThrow());
    }

    public ConvPoolPlan convPool(ConvPoolSpec spec) {
        return plan(spec, ConvPoolPlan.class, s -> primary.planConvPool(spec), () -> reference.planConvPool(spec).orElseThrow());
    }

    private <P extends AutoCloseable> P plan(Object spec, Class<P> kind, Function<Object, Optional<P>> preferred,
                                             java.util.function.Supplier<P> fallback) {
        Checks.state(!closed, "kernels are closed");
        AutoCloseable cached = plans.get(spec);
        if (cached != null) {
            return kind.cast(cached);
        }
        P plan = preferred.apply(spec).orElseGet(() -> {
            if (declinedKinds.add(kind)) {
                LOG.info("{} declined {}; using the reference kernel", primary.name(), spec);
            }
            return fallback.get();
        });
        plans.put(spec, plan);
        return plan;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (AutoCloseable plan : plans.values()) {
            try {
                plan.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + plan + " failed", e);
            }
        }
        plans.clear();
        if (primary != reference) {
            primary.close();
        }
        reference.close();
    }
}
