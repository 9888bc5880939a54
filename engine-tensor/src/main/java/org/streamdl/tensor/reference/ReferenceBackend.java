package org.streamdl.tensor.reference;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.spi.Backend;
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.ConvPoolPlan;
import org.streamdl.tensor.spi.ConvPoolSpec;
import org.streamdl.tensor.spi.Conv2dSpec;
import org.streamdl.tensor.spi.Pool2dPlan;
import org.streamdl.tensor.spi.Pool2dSpec;
import org.streamdl.tensor.spi.MatmulPlan;
import org.streamdl.tensor.spi.MatmulSpec;

/**
 * The pure-Java backend: plans every spec, never declines. With more than one thread it owns a
 * pool of daemon workers ({@code streamdl-reference-N}) that it stops on {@link #close()}; with one
 * thread every kernel runs on the caller's thread.
 */
public final class ReferenceBackend implements Backend {
    private static final AtomicInteger POOLS = new AtomicInteger();

    private final int threads;
    private final ExecutorService pool;   // null when single-threaded
    private boolean closed;

    private ReferenceBackend(int threads) {
        this.threads = threads;
        if (threads > 1) {
            int id = POOLS.incrementAndGet();
            AtomicInteger worker = new AtomicInteger();
            this.pool = Executors.newFixedThreadPool(threads, r -> {
                Thread t = new Thread(r, "streamdl-reference-" + id + "-" + worker.incrementAndGet());
                t.setDaemon(true);
                return t;
            });
        } else {
            this.pool = null;
        }
    }

    public static ReferenceBackend create(int threads) {
        Checks.argument(threads >= 1, "a backend needs at least 1 thread but got %s", threads);
        return new ReferenceBackend(threads);
    }

    @Override
    public String name() {
        return "reference";
    }

    @Override
    public int threads() {
        return threads;
    }

    @Override
    public Optional<MatmulPlan> planMatmul(MatmulSpec spec, Allocator memory) {
        checkOpen();
        return Optional.of(switch (spec.dtype()) {
            case FLOAT64 -> new Float64MatmulPlan(spec);
            case BFLOAT16 -> new Bfloat16MatmulPlan(spec, new ReferenceMatmulPlan(spec.withDType(org.streamdl.tensor.DType.FLOAT32), this), memory);
            default -> new ReferenceMatmulPlan(spec, this);
        });
    }

    @Override
    public Optional<Conv2dPlan> planConv2d(Conv2dSpec spec, Allocator memory) {
        checkOpen();
        return Optional.of(conv2d(spec));
    }

    @Override
    public Optional<Pool2dPlan> planPool2d(Pool2dSpec spec, Allocator memory) {
        checkOpen();
        return Optional.of(pool2d(spec));
    }

    @Override
    public Optional<ConvPoolPlan> planConvPool(ConvPoolSpec spec, Allocator memory) {
        checkOpen();
        return Optional.of(new ReferenceConvPoolPlan(spec, conv2d(spec.conv()), pool2d(spec.pool()), memory));
    }

    @Override
    public Optional<org.streamdl.tensor.spi.QuantizedMatmulPlan> planQuantizedMatmul(org.streamdl.tensor.spi.QuantizedMatmulSpec spec, Allocator memory) {
        checkOpen();
        return Optional.of(new ReferenceQuantizedMatmulPlan(spec, memory));
    }

    @Override
    public Optional<org.streamdl.tensor.spi.QuantizedConvPlan> planQuantizedConv(org.streamdl.tensor.spi.QuantizedConvSpec spec, Allocator memory) {
        checkOpen();
        return Optional.of(new ReferenceQuantizedConvPlan(spec, memory));
    }

    static Conv2dPlan conv2d(Conv2dSpec spec) {
        return spec.dtype() == org.streamdl.tensor.DType.FLOAT64 ? new Float64Conv2dPlan(spec) : new ReferenceConv2dPlan(spec);
    }

    static Pool2dPlan pool2d(Pool2dSpec spec) {
        return spec.dtype() == org.streamdl.tensor.DType.FLOAT64 ? new Float64Pool2dPlan(spec) : new ReferencePool2dPlan(spec);
    }

    /** Runs the tasks on the pool (or inline) and waits for all; the first failure is rethrown. */
    void runAll(List<Runnable> tasks) {
        checkOpen();
        if (pool == null || tasks.size() == 1) {
            for (Runnable task : tasks) {
                task.run();
            }
            return;
        }
        List<Future<?>> futures = new ArrayList<>(tasks.size());
        for (Runnable task : tasks) {
            futures.add(pool.submit(task));
        }
        RuntimeException failure = null;
        for (Future<?> f : futures) {
            try {
                f.get();
            } catch (ExecutionException e) {
                if (failure == null) {
                    failure = e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for reference kernels", e);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void checkOpen() {
        Checks.state(!closed, "the reference backend is closed");
    }

    @Override
    public void close() {
        closed = true;
        if (pool != null) {
            pool.shutdownNow();
        }
    }

    @Override
    public String toString() {
        return "ReferenceBackend(" + threads + " threads)";
    }
}
