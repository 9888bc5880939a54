package org.streamdl.dnn.dnnl;

import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_get_effective_cpu_isa;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_default_flags;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_success;

import java.util.Optional;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.dnnl.dnnl_version_t;
import org.bytedeco.dnnl.global.dnnl;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
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
 * oneDNN on the CPU through JavaCPP's {@code dnnl} preset. One engine and one stream per backend;
 * plans build their primitive descriptors once and bind tensors' memory without copies at each
 * execution. A spec oneDNN does not implement is declined, and the caller plans it on the
 * reference backend.
 *
 * <p>Confined to one thread at a time, like the plans it makes (a oneDNN stream is not meant to be
 * shared between threads).
 */
public final class DnnlBackend implements Backend {
    private static final Logger LOG = LoggerFactory.getLogger(DnnlBackend.class);

    private final int threads;
    private final dnnl_engine engine;
    private final dnnl_stream stream;
    private final OpenMpThreads threadLimit;
    private boolean closed;

    private DnnlBackend(int threads) {
        this.threads = threads;
        this.engine = new dnnl_engine();
        int status = dnnl_engine_create(engine, dnnl_cpu, 0);
        if (status != dnnl_success) {
            throw new DnnlException(status, "dnnl_engine_create", "the CPU engine");
        }
        this.stream = new dnnl_stream();
        status = dnnl_stream_create(stream, engine, dnnl_stream_default_flags);
        if (status != dnnl_success) {
            dnnl_engine_destroy(engine);
            throw new DnnlException(status, "dnnl_stream_create", "the CPU stream");
        }
        this.threadLimit = new OpenMpThreads(threads);
    }

    /**
     * With {@code -Dstreamdl.dnnl.required=true}, a machine where oneDNN does not load is an error
     * instead of a fallback to the reference kernels: the build's tests run with it, so a test that
     * means oneDNN cannot pass on the reference kernels unnoticed.
     */
    public static final String REQUIRED_PROPERTY = "streamdl.dnnl.required";

    /**
     * A oneDNN backend, or empty when the native library cannot be loaded on this machine (another
     * OS or CPU): the reason is logged once at WARN and the caller uses the reference backend, unless
     * {@value #REQUIRED_PROPERTY} is set, when it throws with the reason.
     */
    public static Optional<DnnlBackend> create(int threads) {
        Checks.argument(threads >= 1, "a backend needs at least 1 thread but got %s", threads);
        if (!Availability.AVAILABLE) {
            Checks.state(!Boolean.getBoolean(REQUIRED_PROPERTY), "oneDNN is required (-D%s=true) but could not be loaded: %s",
                    REQUIRED_PROPERTY, Availability.failure);
            return Optional.empty();
        }
        return Optional.of(new DnnlBackend(threads));
    }

    /** Whether oneDNN loaded here; the reason it did not is logged once. */
    public static boolean isAvailable() {
        return Availability.AVAILABLE;
    }

    /** Loads the native library on first use, not in a static initializer of the backend. */
    private static final class Availability {
        static String failure;     // why it did not load, when it did not
        static final boolean AVAILABLE = load();

        private static boolean load() {
            try {
                dnnl_version_t v = dnnl.dnnl_version();
                LOG.info("oneDNN {}.{}.{} loaded, CPU ISA {}", v.major(), v.minor(), v.patch(), isaName(dnnl_get_effective_cpu_isa()));
                return true;
            } catch (Throwable e) {   // UnsatisfiedLinkError, NoClassDefFoundError, ExceptionInInitializerError
                failure = e.toString();
                LOG.warn("oneDNN could not be loaded ({}); using the pure-Java reference kernels", failure);
                return false;
            }
        }
    }

    static String isaName(int isa) {
        if (isa == dnnl.dnnl_cpu_isa_avx512_core_amx) {
            return "avx512_core_amx";
        } else if (isa == dnnl.dnnl_cpu_isa_avx512_core_bf16) {
            return "avx512_core_bf16";
        } else if (isa == dnnl.dnnl_cpu_isa_avx512_core_vnni) {
            return "avx512_core_vnni";
        } else if (isa == dnnl.dnnl_cpu_isa_avx512_core) {
            return "avx512_core";
        } else if (isa == dnnl.dnnl_cpu_isa_avx2_vnni) {
            return "avx2_vnni";
        } else if (isa == dnnl.dnnl_cpu_isa_avx2) {
            return "avx2";
        }
        return "isa " + isa;
    }

    dnnl_engine engine() {
        return engine;
    }

    dnnl_stream stream() {
        return stream;
    }

    /**
     * Below this many floating-point operations a primitive runs on one thread: waking and joining
     * an OpenMP team costs more than it saves (LeNet-5 at batch 1: 62 us p50 on one thread, 106 us
     * on two, and a p99 of 5 ms from sleeping team members).
     */
    static final double PARALLEL_FLOPS = 4e6;

    /** Applies this backend's thread count to the calling thread before a primitive of {@code flops} runs. */
    void enterKernel(double flops) {
        Checks.state(!closed, "the dnnl backend is closed");
        threadLimit.applyToCallingThread(flops < PARALLEL_FLOPS ? 1 : threads);
    }

    /**
     * Sets the calling thread's team before a primitive of {@code flops} is created. oneDNN fixes a
     * primitive's blocking and thread partition at creation from the calling thread's team, so it is
     * created with the team its size gets (not a team left over from the previous primitive).
     */
    void enterCreation(double flops) {
        Checks.state(!closed, "the dnnl backend is closed");
        threadLimit.applyExactly(flops < PARALLEL_FLOPS ? 1 : threads);
    }

    @Override
    public String name() {
        return "dnnl";
    }

    @Override
    public int threads() {
        return threads;
    }

    @Override
    public Optional<MatmulPlan> planMatmul(MatmulSpec spec, Allocator memory) {
        Checks.state(!closed, "the dnnl backend is closed");
        return spec.dtype() == DType.FLOAT64 ? Optional.empty() : DnnlMatmulPlan.create(this, spec, memory);
    }

    @Override
    public Optional<Conv2dPlan> planConv2d(Conv2dSpec spec, Allocator memory) {
        Checks.state(!closed, "the dnnl backend is closed");
        return spec.dtype() != DType.FLOAT32 ? Optional.empty() : DnnlConv2dPlan.create(this, spec, memory);
    }

    @Override
    public Optional<Pool2dPlan> planPool2d(Pool2dSpec spec, Allocator memory) {
        Checks.state(!closed, "the dnnl backend is closed");
        return spec.dtype() != DType.FLOAT32 ? Optional.empty() : DnnlPool2dPlan.create(this, spec);
    }

    @Override
    public Optional<ConvPoolPlan> planConvPool(ConvPoolSpec spec, Allocator memory) {
        Checks.state(!closed, "the dnnl backend is closed");
        return spec.conv().dtype() != DType.FLOAT32 ? Optional.empty() : DnnlConvPoolPlan.create(this, spec, memory);
    }

    @Override
    public Optional<org.streamdl.tensor.spi.QuantizedMatmulPlan> planQuantizedMatmul(org.streamdl.tensor.spi.QuantizedMatmulSpec spec, Allocator memory) {
        Checks.state(!closed, "the dnnl backend is closed");
        return DnnlQuantizedMatmulPlan.create(this, spec, memory);
    }

    @Override
    public Optional<org.streamdl.tensor.spi.QuantizedConvPlan> planQuantizedConv(org.streamdl.tensor.spi.QuantizedConvSpec spec, Allocator memory) {
        Checks.state(!closed, "the dnnl backend is closed");
        return DnnlQuantizedConvPlan.create(this, spec, memory);
    }

    @Override
    public void close() {
        if (!closed) {
            closed = true;
            dnnl_stream_destroy(stream);
            dnnl_engine_destroy(engine);
        }
    }

    @Override
    public String toString() {
        return "DnnlBackend(" + threads + " threads)";
    }
}
