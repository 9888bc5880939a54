package org.streamdl.dnn;

import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.streamdl.dnn.dnnl.DnnlBackend;
import org.streamdl.tensor.Allocator;
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
import org.streamdl.tensor.spi.QuantizedConvPlan;
import org.streamdl.tensor.spi.QuantizedConvSpec;
import org.streamdl.tensor.spi.QuantizedMatmulPlan;
import org.streamdl.tensor.spi.QuantizedMatmulSpec;

/**
 * The plans a model runs on: each spec is planned once on the preferred backend (oneDNN when it
 * loads), falling back to the reference backend for a spec it declines, and reused while it is
 * cached. Confined to one thread, like the model that owns it.
 *
 * <p>Memory: plans keep their buffers (weights in the layout a kernel prefers, operands in blocked
 * layouts, scratch) in the allocator tree of the model these kernels serve, under {@code <model>/plans}
 * ({@link #planIn}, called by {@link org.streamdl.dnn.model.Model}); kernels used without a model plan
 * in a root of their own named {@code kernels}.
 *
 * <p>The cache is bounded, because every input shape has plans of its own and a micro-batching
 * scorer or an online trainer meets every batch size up to its maximum: when it holds more than
 * {@link #MAX_PLANS} plans or their memory passes {@link #planBudgetBytes()}, the least recently used
 * plans are closed, except those used in the current pass ({@link #beginPass}), which a backward pass
 * may still need.
 */
public final class Kernels implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Kernels.class);
    /** Plans kept at most; a pass that needs more keeps them all until it ends. */
    public static final int MAX_PLANS = 256;
    /** Plan memory kept at most, beyond the plans of the current pass, in a JVM with 512 MiB of direct memory or more. */
    public static final long PLAN_BUDGET_BYTES = 64L << 20;

    /** Which backend to prefer. */
    public enum Preference { BEST, REFERENCE }

    private final Backend primary;
    private final ReferenceBackend reference;
    private final LinkedHashMap<Object, CachedPlan> plans = new LinkedHashMap<>(64, 0.75f, true);   // LRU order
    private final Set<Class<?>> declinedKinds = new HashSet<>();
    private Allocator memory;        // '<model>/plans', or our own root; created by us, closed by us
    private boolean memoryIsOwnRoot;
    private long pass;
    private long evictions;
    private volatile int planCount;  // the cache's size, readable from a metrics reporter's thread
    private boolean closed;

    private static final class CachedPlan {
        final AutoCloseable plan;
        long lastPass;

        CachedPlan(AutoCloseable plan, long pass) {
            this.plan = plan;
            this.lastPass = pass;
        }
    }

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

    /**
     * Plans made from now on keep their memory in a child {@code plans} of {@code modelMemory}, the
     * root of the model these kernels serve. Called once, by the model, before anything is planned.
     */
    public void planIn(Allocator modelMemory) {
        Checks.state(!closed, "kernels are closed");
        Checks.state(plans.isEmpty(), "kernels already hold %s plans in '%s'; give each model kernels of its own",
                plans.size(), memory == null ? "" : memory.path());
        Checks.state(memory == null || memory.isClosed() || memoryIsOwnRoot,
                "kernels already serve the model whose memory is '%s'; give each model kernels of its own", memory);
        if (memory != null) {
            memory.close();
        }
        memory = modelMemory.newChild("plans");
        memoryIsOwnRoot = false;
    }

    /** Where plans keep their memory: a model's {@code plans} allocator, or a root of these kernels' own. */
    public Allocator memory() {
        Checks.state(!closed, "kernels are closed");
        if (memory == null || memory.isClosed()) {
            memory = Allocator.root("kernels", Allocator.directMemoryLimitBytes());
            memoryIsOwnRoot = true;
        }
        return memory;
    }

    /**
     * Starts a forward or forward-and-backward pass ({@link Context} calls it): plans used from now
     * on stay cached until the next pass begins.
     */
    public void beginPass() {
        pass++;
    }

    /**
     * Plan memory kept at most beyond the current pass: {@link #PLAN_BUDGET_BYTES}, or an eighth of the
     * JVM's direct memory when that is less, so a small TaskManager keeps fewer plans rather than failing.
     */
    public static long planBudgetBytes() {
        return Math.min(PLAN_BUDGET_BYTES, Allocator.directMemoryLimitBytes() / 8);
    }

    /** Plans cached now; may be read from any thread. */
    public int planCount() {
        return planCount;
    }

    /** Plans closed so far to keep the cache within its bounds. */
    public long evictions() {
        return evictions;
    }

    public MatmulPlan matmul(MatmulSpec spec) {
        return plan(spec, MatmulPlan.class, s -> primary.planMatmul(spec, memory()),
                () -> reference.planMatmul(spec, memory()).orElseThrow());
    }

    public Conv2dPlan conv2d(Conv2dSpec spec) {
        return plan(spec, Conv2dPlan.class, s -> primary.planConv2d(spec, memory()),
                () -> reference.planConv2d(spec, memory()).orElseThrow());
    }

    public Pool2dPlan pool2d(Pool2dSpec spec) {
        return plan(spec, Pool2dPlan.class, s -> primary.planPool2d(spec, memory()),
                () -> reference.planPool2d(spec, memory()).orElseThrow());
    }

    public QuantizedMatmulPlan quantizedMatmul(QuantizedMatmulSpec spec) {
        return plan(spec, QuantizedMatmulPlan.class, s -> primary.planQuantizedMatmul(spec, memory()),
                () -> reference.planQuantizedMatmul(spec, memory()).orElseThrow());
    }

    public QuantizedConvPlan quantizedConv(QuantizedConvSpec spec) {
        return plan(spec, QuantizedConvPlan.class, s -> primary.planQuantizedConv(spec, memory()),
                () -> reference.planQuantizedConv(spec, memory()).orElseThrow());
    }

    public ConvPoolPlan convPool(ConvPoolSpec spec) {
        return plan(spec, ConvPoolPlan.class, s -> primary.planConvPool(spec, memory()),
                () -> reference.planConvPool(spec, memory()).orElseThrow());
    }

    private <P extends AutoCloseable> P plan(Object spec, Class<P> kind, Function<Object, Optional<P>> preferred,
                                             Supplier<P> fallback) {
        Checks.state(!closed, "kernels are closed");
        CachedPlan cached = plans.get(spec);
        if (cached != null) {
            cached.lastPass = pass;
            return kind.cast(cached.plan);
        }
        evictStalePlans();
        P plan = preferred.apply(spec).orElseGet(() -> {
            if (declinedKinds.add(kind)) {
                LOG.info("{} declined {}; using the reference kernel", primary.name(), spec);
            }
            return fallback.get();
        });
        plans.put(spec, new CachedPlan(plan, pass));
        planCount = plans.size();
        return plan;
    }

    /** Closes least recently used plans while the cache is over a bound, never one of the current pass. */
    private void evictStalePlans() {
        Iterator<CachedPlan> oldestFirst = plans.values().iterator();
        while ((plans.size() >= MAX_PLANS || memory().usedBytes() > planBudgetBytes()) && oldestFirst.hasNext()) {
            CachedPlan oldest = oldestFirst.next();
            if (oldest.lastPass == pass) {
                return;     // every plan after it was used in this pass too
            }
            oldestFirst.remove();
            planCount = plans.size();
            closePlan(oldest.plan);
            evictions++;
        }
    }

    private static void closePlan(AutoCloseable plan) {
        try {
            plan.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing " + plan + " failed", e);
        }
    }

    /** Closes every plan, the memory they were kept in, and the backends. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (CachedPlan cached : plans.values()) {
            closePlan(cached.plan);
        }
        plans.clear();
        planCount = 0;
        if (memory != null) {
            memory.close();
        }
        if (primary != reference) {
            primary.close();
        }
        reference.close();
    }
}
