package org.streamdl.dnn.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_SCALES;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_a;
import static org.bytedeco.dnnl.global.dnnl.dnnl_bf16;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_set_data_handle;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_weights_md;

import java.util.Optional;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.FloatPointer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.reference.ReferenceBackend;
import org.streamdl.tensor.spi.MatmulPlan;
import org.streamdl.tensor.spi.MatmulSpec;

/**
 * oneDNN matmul for operands stored contiguously (a transposed operand is a contiguous tensor read
 * through transposed strides). alpha is a source scale, beta a sum post-op. An execution with a
 * strided view runs on the reference kernel instead, since the primitive was built for one layout.
 */
final class DnnlMatmulPlan implements MatmulPlan {
    private final MatmulSpec spec;
    private final DnnlBackend backend;
    private final Native handles;
    private final dnnl_primitive primitive;
    private final dnnl_memory a;
    private final dnnl_memory b;
    private final dnnl_memory c;
    private final dnnl_memory bias;
    private final dnnl_exec_arg_t args;
    private final int argCount;
    private final Layout packedB;      // b in oneDNN's packed layout when it is a layer's weights; else null
    private final Layout roundedA;     // a float32 input rounded to bfloat16 by a reorder, when the spec asks; else null
    private final Allocator scratch;    // what the plan keeps: the packed weights
    private final Allocator calls;      // what one call needs: the input rounded to bfloat16
    private ReferenceBackend fallbackBackend;
    private MatmulPlan fallback;

    private DnnlMatmulPlan(MatmulSpec spec, DnnlBackend backend, Native handles, dnnl_primitive primitive,
                           dnnl_memory a, dnnl_memory b, dnnl_memory c, dnnl_memory bias, dnnl_memory alpha,
                           Layout packedB, Layout roundedA, Allocator scratch, Allocator calls) {
        this.spec = spec;
        this.packedB = packedB;
        this.roundedA = roundedA;
        this.scratch = scratch;
        this.calls = calls;
        this.backend = backend;
        this.handles = handles;
        this.primitive = primitive;
        this.a = a;
        this.b = b;
        this.c = c;
        this.bias = bias;
        this.argCount = 3 + (alpha == null ? 0 : 1) + (bias == null ? 0 : 1);
        this.args = new dnnl_exec_arg_t(argCount);
        int n = 0;
        args.position(n++).arg(DNNL_ARG_SRC).memory(a);
        args.position(n++).arg(DNNL_ARG_WEIGHTS).memory(b);
        args.position(n++).arg(DNNL_ARG_DST).memory(c);
        if (alpha != null) {
            args.position(n++).arg(DNNL_ARG_ATTR_SCALES | DNNL_ARG_SRC).memory(alpha);
        }
        if (bias != null) {
            args.position(n).arg(DNNL_ARG_BIAS).memory(bias);
        }
        args.position(0);
    }

    static Optional<MatmulPlan> create(DnnlBackend backend, MatmulSpec spec, Allocator memory) {
        backend.enterCreation(spec.flops());
        Native handles = new Native(spec);
        Allocator scratch = null;
        Allocator calls = null;
        try {
            int rank = spec.cShape().rank();
            int operands = spec.dtype() == DType.BFLOAT16 ? dnnl_bf16 : dnnl_f32;   // c and bias stay f32
            dnnl_memory_desc aMd = handles.stridedDesc(logical(spec.aShape(), rank, spec.transposeA()), operands,
                    strides(spec.aShape(), rank, spec.transposeA()));
            dnnl_memory_desc bMd = handles.stridedDesc(logical(spec.bShape(), rank, spec.transposeB()), operands,
                    strides(spec.bShape(), rank, spec.transposeB()));
            dnnl_memory_desc cMd = handles.stridedDesc(spec.cShape().dims(), dnnl_f32, spec.cShape().contiguousStrides());
            boolean scaled = spec.alpha() != 1f;
            dnnl_memory_desc biasMd = null;
            if (spec.hasBias()) {
                long[] dims = new long[rank];
                java.util.Arrays.fill(dims, 1);
                dims[rank - 1] = spec.n();
                biasMd = handles.stridedDesc(dims, dnnl_f32, Shape.of(dims).contiguousStrides());
            }
            dnnl_primitive_attr attr = handles.attr(spec.relu(), spec.beta(), scaled);
            // weights may take the layout oneDNN packs them in; other operands stay as stored
            boolean pack = spec.weightsB() && rank == 2;
            dnnl_memory_desc bWanted = pack
                    ? handles.desc(logical(spec.bShape(), rank, spec.transposeB()), operands, dnnl_format_tag_any) : bMd;
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            if (!handles.implemented(dnnl_matmul_primitive_desc_create(pd, backend.engine(), aMd, bWanted, biasMd, cMd, attr),
                    "dnnl_matmul_primitive_desc_create")) {
                handles.close();
                return Optional.empty();
            }
            handles.own(pd);
            dnnl_primitive primitive = new dnnl_primitive();
            handles.check(dnnl_primitive_create(primitive, pd), "dnnl_primitive_create");
            handles.own(primitive);
            dnnl_memory alpha = null;
            if (scaled) {
                FloatPointer value = handles.floats(1);
                value.put(0, spec.alpha());
                alpha = handles.memory(handles.desc(new long[] {1}, dnnl_f32, dnnl_a), backend.engine());
                handles.check(dnnl_memory_set_data_handle(alpha, value), "dnnl_memory_set_data_handle");
            }
            scratch = memory.newChild("dnnl " + spec);
            calls = scratch.newChild("calls");
            Layout packedB = pack ? Layout.persistent(backend, handles, scratch, bMd,
                    dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0)) : null;
            Layout roundedA = spec.floatInput() ? new Layout(backend, handles, calls,
                    handles.stridedDesc(logical(spec.aShape(), rank, spec.transposeA()), dnnl_f32,
                            strides(spec.aShape(), rank, spec.transposeA())), aMd, true, false) : null;
            return Optional.of(new DnnlMatmulPlan(spec, backend, handles, primitive,
                    handles.memory(aMd, backend.engine()), handles.memory(bMd, backend.engine()),
                    handles.memory(cMd, backend.engine()), biasMd == null ? null : handles.memory(biasMd, backend.engine()),
                    alpha, packedB, roundedA, scratch, calls));
        } catch (RuntimeException e) {
            handles.close();
            if (calls != null) {
                calls.close();
            }
            if (scratch != null) {
                scratch.close();
            }
            throw e;
        }
    }

    /** The operand's logical (…, rows, cols) dims padded with leading 1s to the result's rank. */
    private static long[] logical(Shape stored, int rank, boolean transposed) {
        long[] dims = new long[rank];
        java.util.Arrays.fill(dims, 1);
        long[] s = stored.dims();
        System.arraycopy(s, 0, dims, rank - s.length, s.length);
        if (transposed) {
            long t = dims[rank - 1];
            dims[rank - 1] = dims[rank - 2];
            dims[rank - 2] = t;
        }
        return dims;
    }

    /** Strides of the contiguous stored operand, seen through the logical (possibly transposed) dims. */
    private static long[] strides(Shape stored, int rank, boolean transposed) {
        long[] padded = new long[rank];
        java.util.Arrays.fill(padded, 1);
        long[] s = stored.dims();
        System.arraycopy(s, 0, padded, rank - s.length, s.length);
        long[] strides = Shape.of(padded).contiguousStrides();
        if (transposed) {
            long t = strides[rank - 1];
            strides[rank - 1] = strides[rank - 2];
            strides[rank - 2] = t;
        }
        return strides;
    }

    @Override
    public MatmulSpec spec() {
        return spec;
    }

    @Override
    public void execute(Tensor ta, Tensor tb, Tensor tc) {
        execute(ta, tb, null, tc);
    }

    @Override
    public void execute(Tensor ta, Tensor tb, Tensor tbias, Tensor tc) {
        try {
            run(ta, tb, tbias, tc);
        } finally {
            calls.freeAll();   // the call's layout buffers go back to the pool
        }
    }

    private void run(Tensor ta, Tensor tb, Tensor tbias, Tensor tc) {
        MatmulPlan.checkOperands(spec, ta, tb, tbias, tc);
        if (!ta.isContiguous() || !tb.isContiguous() || !tc.isContiguous() || (tbias != null && !tbias.isContiguous())) {
            fallback().execute(ta, tb, tbias, tc);
            return;
        }
        backend.enterKernel(spec.flops());
        if (roundedA != null) {
            args.position(0).arg(DNNL_ARG_SRC).memory(roundedA.input(ta));
        } else {
            handles.bind(a, ta);
        }
        if (packedB != null) {
            args.position(1).arg(DNNL_ARG_WEIGHTS).memory(packedB.inputUnlessUnchanged(tb));
            args.position(0);
        } else {
            handles.bind(b, tb);
        }
        handles.bind(c, tc);
        if (tbias != null) {
            handles.bind(bias, tbias);
        }
        handles.check(dnnl_primitive_execute(primitive, backend.stream(), argCount, args), "dnnl_primitive_execute");
    }

    private MatmulPlan fallback() {
        if (fallback == null) {
            fallbackBackend = ReferenceBackend.create(backend.threads());
            fallback = fallbackBackend.planMatmul(spec, scratch).orElseThrow();
        }
        return fallback;
    }

    @Override
    public void close() {
        if (fallback != null) {
            fallback.close();
            fallbackBackend.close();
        }
        args.close();
        if (roundedA != null) {
            roundedA.close();
        }
        if (packedB != null) {
            packedB.close();
        }
        handles.close();
        calls.close();
        scratch.close();
    }

    @Override
    public String toString() {
        return "dnnl " + spec;
    }
}
