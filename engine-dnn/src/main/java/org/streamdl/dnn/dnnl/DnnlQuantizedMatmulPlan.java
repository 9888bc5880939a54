package org.streamdl.dnn.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_SCALES;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_a;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ab;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_set_data_handle;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_scales_mask;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_weights_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_s8;
import static org.bytedeco.dnnl.global.dnnl.dnnl_u8;

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
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.QuantizedMatmulPlan;
import org.streamdl.tensor.spi.QuantizedMatmulSpec;

/**
 * oneDNN's int8 matmul (VNNI on this CPU): u8/s8 activations times s8 weights kept in oneDNN's
 * packed layout (packed once per weights tensor), the source, per-column weight and output
 * scales, bias and ReLU fused, the result written as float32 or requantized to u8/s8.
 */
final class DnnlQuantizedMatmulPlan implements QuantizedMatmulPlan {
    private final QuantizedMatmulSpec spec;
    private final DnnlBackend backend;
    private final Native handles;
    private final Allocator scratch;          // what the plan keeps: the packed weights
    private final Allocator calls;            // what one call needs: the codes of a float32 input
    private final dnnl_primitive primitive;
    private final dnnl_memory a;
    private final Layout weights;
    private final dnnl_memory bias;
    private final dnnl_memory c;
    private final dnnl_memory aScale;
    private final dnnl_memory wScales;
    private final dnnl_memory outScale;
    private final FloatPointer aScaleValue;
    private final FloatPointer outScaleValue;
    private final dnnl_exec_arg_t args = new dnnl_exec_arg_t(8);
    private final InputQuantization quantize;   // float32 input → codes, when the spec asks for it; else null

    private DnnlQuantizedMatmulPlan(QuantizedMatmulSpec spec, DnnlBackend backend, Native handles, Allocator scratch,
                                    Allocator calls, dnnl_primitive primitive, dnnl_memory a, Layout weights, dnnl_memory bias,
                                    dnnl_memory c, dnnl_memory aScale, dnnl_memory wScales, dnnl_memory outScale,
                                    FloatPointer aScaleValue, InputQuantization quantize) {
        this.spec = spec;
        this.quantize = quantize;
        this.backend = backend;
        this.handles = handles;
        this.scratch = scratch;
        this.calls = calls;
        this.primitive = primitive;
        this.a = a;
        this.weights = weights;
        this.bias = bias;
        this.c = c;
        this.aScale = aScale;
        this.wScales = wScales;
        this.outScale = outScale;
        this.aScaleValue = aScaleValue;
        this.outScaleValue = handles.floats(1);
        handles.check(dnnl_memory_set_data_handle(aScale, aScaleValue), "dnnl_memory_set_data_handle");
        if (outScale != null) {
            handles.check(dnnl_memory_set_data_handle(outScale, outScaleValue), "dnnl_memory_set_data_handle");
        }
    }

    private static int dnnlType(DType t) {
        return switch (t) {
            case UINT8 -> dnnl_u8;
            case INT8 -> dnnl_s8;
            default -> dnnl_f32;
        };
    }

    static Optional<QuantizedMatmulPlan> create(DnnlBackend backend, QuantizedMatmulSpec spec, Allocator memory) {
        backend.enterCreation(spec.ops());
        Native handles = new Native(spec);
        Allocator scratch = memory.newChild("dnnl " + spec);
        Allocator calls = scratch.newChild("calls");
        try {
            long m = spec.m();
            long k = spec.k();
            long n = spec.n();
            dnnl_memory_desc aMd = handles.desc(new long[] {m, k}, dnnlType(spec.activation()), dnnl_ab);
            // weights are stored (n, k); oneDNN reads them as (k, n) through transposed strides
            dnnl_memory_desc wUser = handles.stridedDesc(new long[] {k, n}, dnnl_s8, new long[] {1, k});
            dnnl_memory_desc wAny = handles.desc(new long[] {k, n}, dnnl_s8, dnnl_format_tag_any);
            dnnl_memory_desc biasMd = spec.hasBias() ? handles.desc(new long[] {1, n}, dnnl_f32, dnnl_ab) : null;
            dnnl_memory_desc cMd = handles.desc(new long[] {m, n}, dnnlType(spec.output()), dnnl_ab);
            boolean quantizedOut = spec.output() != DType.FLOAT32;
            dnnl_primitive_attr attr = handles.attr(spec.relu(), 0f, true);
            handles.check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_WEIGHTS, 1 << 1), "dnnl_primitive_attr_set_scales_mask");
            if (quantizedOut) {
                handles.check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_DST, 0), "dnnl_primitive_attr_set_scales_mask");
            }
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            if (!handles.implemented(dnnl_matmul_primitive_desc_create(pd, backend.engine(), aMd, wAny, biasMd, cMd, attr),
                    "dnnl_matmul_primitive_desc_create")) {
                close(handles, calls, scratch);
                return Optional.empty();
            }
            handles.own(pd);
            dnnl_primitive primitive = new dnnl_primitive();
            handles.check(dnnl_primitive_create(primitive, pd), "dnnl_primitive_create");
            handles.own(primitive);
            Layout weights = Layout.persistent(backend, handles, scratch, wUser,
                    dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0));
            dnnl_memory_desc one = handles.desc(new long[] {1}, dnnl_f32, dnnl_a);
            FloatPointer aScaleValue = handles.floats(1);
            InputQuantization quantize = spec.floatInput() ? new InputQuantization(backend, handles, calls,
                    new long[] {m, k}, dnnl_ab, dnnlType(spec.activation()), aMd, aScaleValue) : null;
            return Optional.of(new DnnlQuantizedMatmulPlan(spec, backend, handles, scratch, calls, primitive,
                    handles.memory(aMd, backend.engine()), weights,
                    biasMd == null ? null : handles.memory(biasMd, backend.engine()), handles.memory(cMd, backend.engine()),
                    handles.memory(one, backend.engine()),
                    handles.memory(handles.desc(new long[] {n}, dnnl_f32, dnnl_a), backend.engine()),
                    quantizedOut ? handles.memory(one, backend.engine()) : null, aScaleValue, quantize));
        } catch (RuntimeException e) {
            close(handles, calls, scratch);
            throw e;
        }
    }

    @Override
    public QuantizedMatmulSpec spec() {
        return spec;
    }

    @Override
    public void execute(Tensor ta, float aScaleV, Tensor tw, Tensor twScales, Tensor tbias, float outScaleV, Tensor tc) {
        try {
            runExecute(ta, aScaleV, tw, twScales, tbias, outScaleV, tc);
        } finally {
            calls.freeAll();   // the call's layout buffers go back to the pool
        }
    }

    private void runExecute(Tensor ta, float aScaleV, Tensor tw, Tensor twScales, Tensor tbias, float outScaleV, Tensor tc) {
        QuantizedMatmulPlan.checkOperands(spec, ta, tw, twScales, tbias, tc);
        backend.enterKernel(spec.ops());
        aScaleValue.put(0, aScaleV);
        dnnl_memory codes;
        if (quantize != null) {
            codes = quantize.run(ta);
        } else {
            handles.bind(a, ta);
            codes = a;
        }
        handles.bind(c, tc);
        handles.bind(wScales, twScales);
        int i = 0;
        args.position(i++).arg(DNNL_ARG_SRC).memory(codes);
        args.position(i++).arg(DNNL_ARG_WEIGHTS).memory(weights.inputOfImmutable(tw));   // packed once per weights tensor
        args.position(i++).arg(DNNL_ARG_DST).memory(c);
        args.position(i++).arg(DNNL_ARG_ATTR_SCALES | DNNL_ARG_SRC).memory(aScale);
        args.position(i++).arg(DNNL_ARG_ATTR_SCALES | DNNL_ARG_WEIGHTS).memory(wScales);
        if (bias != null) {
            handles.bind(bias, tbias);
            args.position(i++).arg(DNNL_ARG_BIAS).memory(bias);
        }
        if (outScale != null) {
            outScaleValue.put(0, outScaleV);
            args.position(i++).arg(DNNL_ARG_ATTR_SCALES | DNNL_ARG_DST).memory(outScale);
        }
        handles.check(dnnl_primitive_execute(primitive, backend.stream(), i, args.position(0)), "dnnl_primitive_execute");
    }

    @Override
    public void close() {
        args.close();
        if (quantize != null) {
            quantize.close();
        }
        weights.close();
        close(handles, calls, scratch);
    }

    private static void close(Native handles, Allocator calls, Allocator scratch) {
        handles.close();
        calls.close();
        scratch.close();
    }

    @Override
    public String toString() {
        return "dnnl " + spec;
    }
}
