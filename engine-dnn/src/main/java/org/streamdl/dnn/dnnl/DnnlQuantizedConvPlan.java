package org.streamdl.dnn.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_SCALES;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_a;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_direct;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_goihw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_set_data_handle;
import static org.bytedeco.dnnl.global.dnnl.dnnl_nchw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_oihw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_max;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_scales_mask;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_dst_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_src_md;
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
import org.bytedeco.javacpp.LongPointer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.Conv2dSpec;
import org.streamdl.tensor.spi.QuantizedConvPlan;
import org.streamdl.tensor.spi.QuantizedConvSpec;

/**
 * oneDNN's int8 convolution (VNNI on this CPU) for inference: u8/s8 codes in oneDNN's preferred
 * layout (a float32 input is quantized into it by {@link InputQuantization}), s8 weights reordered
 * once per weights tensor, source, per-channel weight and output scales, bias and ReLU fused, and an
 * optional max pooling run on the requantized codes in the convolution's own layout, so only the
 * pooled result is reordered back to NCHW.
 */
final class DnnlQuantizedConvPlan implements QuantizedConvPlan {
    private final QuantizedConvSpec spec;
    private final DnnlBackend backend;
    private final Native handles;
    private final Allocator scratch;          // what the plan keeps: the weights in the preferred layout
    private final Allocator calls;            // what one call needs: codes and outputs in the preferred layouts
    private final dnnl_primitive conv;
    private final Layout src;              // codes in, when the input is already quantized
    private final InputQuantization quantize;   // float32 in, otherwise
    private final Layout weights;
    private final dnnl_memory bias;
    private final Layout dst;              // the convolution's output, or the pooling's
    private final dnnl_memory convolved;   // the convolution's output before pooling, or null
    private final Shape convolvedBuffer;
    private final dnnl_primitive pool;
    private final dnnl_memory srcScale;
    private final dnnl_memory wScales;
    private final dnnl_memory dstScale;
    private final FloatPointer srcScaleValue;
    private final FloatPointer dstScaleValue;
    private final dnnl_exec_arg_t args = new dnnl_exec_arg_t(8);

    private DnnlQuantizedConvPlan(QuantizedConvSpec spec, DnnlBackend backend, Native handles, Allocator scratch,
                                  Allocator calls, dnnl_primitive conv, Layout src, InputQuantization quantize, Layout weights, dnnl_memory bias,
                                  Layout dst, dnnl_memory convolved, long convolvedBytes, dnnl_primitive pool, boolean quantizedOut,
                                  FloatPointer srcScaleValue) {
        this.spec = spec;
        this.backend = backend;
        this.handles = handles;
        this.scratch = scratch;
        this.calls = calls;
        this.conv = conv;
        this.src = src;
        this.quantize = quantize;
        this.weights = weights;
        this.bias = bias;
        this.dst = dst;
        this.convolved = convolved;
        this.convolvedBuffer = Shape.of(convolvedBytes);
        this.pool = pool;
        dnnl_memory_desc one = handles.desc(new long[] {1}, dnnl_f32, dnnl_a);
        this.srcScale = handles.memory(one, backend.engine());
        this.wScales = handles.memory(handles.desc(new long[] {spec.conv().outChannels()}, dnnl_f32, dnnl_a), backend.engine());
        this.dstScale = quantizedOut ? handles.memory(one, backend.engine()) : null;
        this.srcScaleValue = srcScaleValue;
        this.dstScaleValue = handles.floats(1);
        handles.check(dnnl_memory_set_data_handle(srcScale, srcScaleValue), "dnnl_memory_set_data_handle");
        if (dstScale != null) {
            handles.check(dnnl_memory_set_data_handle(dstScale, dstScaleValue), "dnnl_memory_set_data_handle");
        }
    }

    private static int dnnlType(DType t) {
        return switch (t) {
            case UINT8 -> dnnl_u8;
            case INT8 -> dnnl_s8;
            default -> dnnl_f32;
        };
    }

    static Optional<QuantizedConvPlan> create(DnnlBackend backend, QuantizedConvSpec spec, Allocator memory) {
        backend.enterCreation(spec.ops());
        Native handles = new Native(spec);
        Allocator scratch = memory.newChild("dnnl " + spec);
        Allocator calls = scratch.newChild("calls");
        try {
            Conv2dSpec c = spec.conv();
            boolean grouped = c.groups() > 1;
            long[] w = c.weightShape().dims();
            long[] weightDims = grouped ? new long[] {c.groups(), w[0] / c.groups(), w[1], w[2], w[3]} : w;
            int act = dnnlType(spec.activation());
            int out = dnnlType(spec.output());
            boolean quantizedOut = spec.output() != DType.FLOAT32;
            dnnl_primitive_attr attr = handles.attr(c.relu(), 0f, true);
            handles.check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_WEIGHTS, grouped ? 3 : 1),
                    "dnnl_primitive_attr_set_scales_mask");
            if (quantizedOut) {
                handles.check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_DST, 0), "dnnl_primitive_attr_set_scales_mask");
            }
            dnnl_memory_desc biasMd = c.hasBias() ? handles.desc(c.biasShape().dims(), dnnl_f32, dnnl_a) : null;
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            if (!handles.implemented(dnnl_convolution_forward_primitive_desc_create(pd, backend.engine(),
                    dnnl_forward_inference, dnnl_convolution_direct,
                    handles.desc(c.inputShape().dims(), act, dnnl_format_tag_any),
                    handles.desc(weightDims, dnnl_s8, dnnl_format_tag_any), biasMd,
                    handles.desc(c.outputShape().dims(), out, dnnl_format_tag_any),
                    new LongPointer(c.strideH(), c.strideW()), new LongPointer(c.dilationH() - 1, c.dilationW() - 1),
                    new LongPointer(c.padH(), c.padW()), new LongPointer(c.padH(), c.padW()), attr),
                    "dnnl_convolution_forward_primitive_desc_create")) {
                close(handles, calls, scratch);
                return Optional.empty();
            }
            handles.own(pd);
            dnnl_primitive conv = new dnnl_primitive();
            handles.check(dnnl_primitive_create(conv, pd), "dnnl_primitive_create");
            handles.own(conv);
            dnnl_memory_desc srcMd = dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
            dnnl_memory_desc convDstMd = dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
            Layout src = null;
            InputQuantization quantize = null;
            FloatPointer srcScaleValue = handles.floats(1);
            if (spec.floatInput()) {
                quantize = new InputQuantization(backend, handles, calls, c.inputShape().dims(), dnnl_nchw, act, srcMd,
                        srcScaleValue);
            } else {
                src = new Layout(backend, handles, calls, handles.desc(c.inputShape().dims(), act, dnnl_nchw), srcMd, true, false);
            }
            Layout weights = Layout.persistent(backend, handles, scratch,
                    handles.desc(weightDims, dnnl_s8, grouped ? dnnl_goihw : dnnl_oihw),
                    dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0));
            dnnl_memory_desc userDst = handles.desc(spec.outputShape().dims(), out, dnnl_nchw);
            Layout dst;
            dnnl_memory convolved = null;
            dnnl_primitive pool = null;
            if (spec.pooled()) {
                convolved = handles.memory(convDstMd, backend.engine());
                long k = spec.poolKernel();
                long s = spec.poolStride();
                dnnl_primitive_desc poolPd = new dnnl_primitive_desc();
                if (!handles.implemented(dnnl_pooling_forward_primitive_desc_create(poolPd, backend.engine(),
                        dnnl_forward_inference, dnnl_pooling_max, convDstMd,
                        handles.desc(spec.outputShape().dims(), out, dnnl_format_tag_any), new LongPointer(s, s),
                        new LongPointer(k, k), new LongPointer(0, 0), new LongPointer(0, 0), new LongPointer(0, 0), null),
                        "dnnl_pooling_forward_primitive_desc_create")) {
                    close(handles, calls, scratch);
                    return Optional.empty();
                }
                handles.own(poolPd);
                pool = new dnnl_primitive();
                handles.check(dnnl_primitive_create(pool, poolPd), "dnnl_primitive_create");
                handles.own(pool);
                dst = new Layout(backend, handles, calls, userDst, dnnl_primitive_desc_query_md(poolPd, dnnl_query_dst_md, 0),
                        false, true);
            } else {
                dst = new Layout(backend, handles, calls, userDst, convDstMd, false, true);
            }
            return Optional.of(new DnnlQuantizedConvPlan(spec, backend, handles, scratch, calls, conv, src, quantize, weights,
                    biasMd == null ? null : handles.memory(biasMd, backend.engine()), dst, convolved,
                    dnnl_memory_desc_get_size(convDstMd), pool, quantizedOut, srcScaleValue));
        } catch (RuntimeException e) {
            close(handles, calls, scratch);
            throw e;
        }
    }

    @Override
    public QuantizedConvSpec spec() {
        return spec;
    }

    @Override
    public void execute(Tensor x, float xScale, Tensor w, Tensor wScaleTensor, Tensor b, float outScale, Tensor y) {
        try {
            runExecute(x, xScale, w, wScaleTensor, b, outScale, y);
        } finally {
            calls.freeAll();   // the call's layout buffers go back to the pool
        }
    }

    private void runExecute(Tensor x, float xScale, Tensor w, Tensor wScaleTensor, Tensor b, float outScale, Tensor y) {
        QuantizedConvPlan.checkOperands(spec, x, w, wScaleTensor, b, y);
        backend.enterKernel(spec.ops());
        srcScaleValue.put(0, xScale);
        dnnl_memory codes;
        if (quantize != null) {
            codes = quantize.run(x);
        } else {
            codes = src.input(x);
        }
        dnnl_memory packed = weights.inputOfImmutable(w);   // reordered once per weights tensor
        handles.bind(wScales, wScaleTensor);
        if (convolved != null) {
            handles.bind(convolved, calls.allocateUninitialized(DType.UINT8, convolvedBuffer));
        }
        dnnl_memory convOut = convolved != null ? convolved : dst.output(y);
        int i = 0;
        args.position(i++).arg(DNNL_ARG_SRC).memory(codes);
        args.position(i++).arg(DNNL_ARG_WEIGHTS).memory(packed);
        args.position(i++).arg(DNNL_ARG_DST).memory(convOut);
        args.position(i++).arg(DNNL_ARG_ATTR_SCALES | DNNL_ARG_SRC).memory(srcScale);
        args.position(i++).arg(DNNL_ARG_ATTR_SCALES | DNNL_ARG_WEIGHTS).memory(wScales);
        if (bias != null) {
            handles.bind(bias, b);
            args.position(i++).arg(DNNL_ARG_BIAS).memory(bias);
        }
        if (dstScale != null) {
            dstScaleValue.put(0, outScale);
            args.position(i++).arg(DNNL_ARG_ATTR_SCALES | DNNL_ARG_DST).memory(dstScale);
        }
        handles.check(dnnl_primitive_execute(conv, backend.stream(), i, args.position(0)), "dnnl_primitive_execute");
        if (pool != null) {
            args.position(0).arg(DNNL_ARG_SRC).memory(convolved);
            args.position(1).arg(DNNL_ARG_DST).memory(dst.output(y));
            handles.check(dnnl_primitive_execute(pool, backend.stream(), 2, args.position(0)), "dnnl_primitive_execute (pool)");
        }
        dst.finishOutput();
    }

    @Override
    public void close() {
        args.close();
        if (src != null) {
            src.close();
        }
        if (quantize != null) {
            quantize.close();
        }
        weights.close();
        dst.close();
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
