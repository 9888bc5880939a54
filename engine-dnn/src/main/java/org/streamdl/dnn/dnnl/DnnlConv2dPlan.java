package org.streamdl.dnn.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_a;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_backward_data_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_backward_weights_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_direct;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_training;
import static org.bytedeco.dnnl.global.dnnl.dnnl_goihw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_nchw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_oihw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_diff_dst_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_diff_src_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_diff_weights_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_dst_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_src_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_weights_md;

import java.util.Optional;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.LongPointer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.Conv2dSpec;

/**
 * oneDNN convolution: forward (with ReLU fused as a post-op when the spec asks), backward data and
 * backward weights, the backward primitives built lazily on first use with the forward descriptor
 * as their hint. Each primitive runs in the layouts oneDNN prefers for it ({@code format_tag_any}:
 * its plain-layout implementation for small channel counts is some 50 times slower); our NCHW/OIHW
 * tensors are reordered to and from them at the boundary.
 */
final class DnnlConv2dPlan implements Conv2dPlan {
    private final Conv2dSpec spec;
    private final DnnlBackend backend;
    private final Native handles;
    private final Allocator scratch;          // what the plan keeps: the weights in the preferred layout
    private final Allocator calls;            // what one call needs: activations in the preferred layouts
    private final dnnl_primitive_desc forwardPd;
    private final dnnl_primitive forward;
    private final dnnl_memory_desc[] plain;      // src, weights, bias (or null), dst in our layouts
    private final Layout fwdSrc;
    private final Layout fwdWeights;
    private final Layout fwdDst;
    private final dnnl_memory bias;
    private final dnnl_exec_arg_t args = new dnnl_exec_arg_t(5);
    private dnnl_primitive backwardData;
    private Layout bwdDataDiffDst;
    private Layout bwdDataWeights;
    private Layout bwdDataDiffSrc;
    private dnnl_primitive backwardWeights;
    private Layout bwdWeightsSrc;
    private Layout bwdWeightsDiffDst;
    private Layout bwdWeightsDiffWeights;

    private DnnlConv2dPlan(Conv2dSpec spec, DnnlBackend backend, Native handles, Allocator scratch,
                           dnnl_primitive_desc forwardPd, dnnl_primitive forward, dnnl_memory_desc[] plain) {
        this.spec = spec;
        this.backend = backend;
        this.handles = handles;
        this.scratch = scratch;
        this.calls = scratch.newChild("calls");
        this.forwardPd = forwardPd;
        this.forward = forward;
        this.plain = plain;
        this.fwdSrc = new Layout(backend, handles, calls, plain[0], query(forwardPd, dnnl_query_src_md), true, false);
        this.fwdWeights = Layout.persistent(backend, handles, scratch, plain[1], query(forwardPd, dnnl_query_weights_md));
        this.fwdDst = new Layout(backend, handles, calls, plain[3], query(forwardPd, dnnl_query_dst_md), false, true);
        this.bias = plain[2] == null ? null : handles.memory(plain[2], backend.engine());
    }

    private static dnnl_memory_desc query(dnnl_primitive_desc pd, int what) {
        return dnnl_primitive_desc_query_md(pd, what, 0);
    }

    static Optional<Conv2dPlan> create(DnnlBackend backend, Conv2dSpec spec, Allocator memory) {
        backend.enterCreation(spec.flops());
        Native handles = new Native(spec);
        Allocator scratch = memory.newChild("dnnl " + spec);
        try {
            dnnl_memory_desc[] plain = descs(handles, spec);
            dnnl_memory_desc[] any = anyDescs(handles, spec);
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            Geometry g = new Geometry(spec);
            if (!handles.implemented(dnnl_convolution_forward_primitive_desc_create(pd, backend.engine(),
                    dnnl_forward_training, dnnl_convolution_direct, any[0], any[1], plain[2], any[3],
                    g.strides, g.dilates, g.padding, g.padding, handles.attr(spec.relu(), 0f, false)),
                    "dnnl_convolution_forward_primitive_desc_create")) {
                handles.close();
                scratch.close();
                return Optional.empty();
            }
            handles.own(pd);
            dnnl_primitive primitive = new dnnl_primitive();
            handles.check(dnnl_primitive_create(primitive, pd), "dnnl_primitive_create");
            handles.own(primitive);
            return Optional.of(new DnnlConv2dPlan(spec, backend, handles, scratch, pd, primitive, plain));
        } catch (RuntimeException e) {
            handles.close();
            scratch.close();
            throw e;
        }
    }

    /** src, weights, bias (null without), dst: plain layouts, the same our tensors use. */
    private static dnnl_memory_desc[] descs(Native handles, Conv2dSpec spec) {
        dnnl_memory_desc src = handles.desc(spec.inputShape().dims(), dnnl_f32, dnnl_nchw);
        dnnl_memory_desc weights = handles.desc(weightDims(spec), dnnl_f32, spec.groups() == 1 ? dnnl_oihw : dnnl_goihw);
        dnnl_memory_desc bias = spec.hasBias() ? handles.desc(spec.biasShape().dims(), dnnl_f32, dnnl_a) : null;
        dnnl_memory_desc dst = handles.desc(spec.outputShape().dims(), dnnl_f32, dnnl_nchw);
        return new dnnl_memory_desc[] {src, weights, bias, dst};
    }

    /** The same shapes with the layout left to oneDNN. */
    private static dnnl_memory_desc[] anyDescs(Native handles, Conv2dSpec spec) {
        return new dnnl_memory_desc[] {
            handles.desc(spec.inputShape().dims(), dnnl_f32, dnnl_format_tag_any),
            handles.desc(weightDims(spec), dnnl_f32, dnnl_format_tag_any),
            null,
            handles.desc(spec.outputShape().dims(), dnnl_f32, dnnl_format_tag_any)};
    }

    private static long[] weightDims(Conv2dSpec spec) {
        long[] w = spec.weightShape().dims();
        return spec.groups() == 1 ? w : new long[] {spec.groups(), w[0] / spec.groups(), w[1], w[2], w[3]};
    }

    /** oneDNN counts dilation from 0 (no gaps) where PyTorch counts from 1. */
    private record Geometry(LongPointer strides, LongPointer dilates, LongPointer padding) {
        Geometry(Conv2dSpec s) {
            this(new LongPointer(s.strideH(), s.strideW()), new LongPointer(s.dilationH() - 1, s.dilationW() - 1),
                    new LongPointer(s.padH(), s.padW()));
        }
    }

    @Override
    public Conv2dSpec spec() {
        return spec;
    }

    @Override
    public void forward(Tensor x, Tensor w, Tensor b, Tensor y) {
        try {
            runForward(x, w, b, y);
        } finally {
            calls.freeAll();   // the call's layout buffers go back to the pool
        }
    }

    private void runForward(Tensor x, Tensor w, Tensor b, Tensor y) {
        Conv2dPlan.check(spec, "x", spec.inputShape(), x);
        Conv2dPlan.check(spec, "w", spec.weightShape(), w);
        Conv2dPlan.check(spec, "y", spec.outputShape(), y);
        backend.enterKernel(spec.flops());
        int n = 0;
        args.position(n++).arg(DNNL_ARG_SRC).memory(fwdSrc.input(x));
        args.position(n++).arg(DNNL_ARG_WEIGHTS).memory(fwdWeights.inputUnlessUnchanged(w));
        args.position(n++).arg(DNNL_ARG_DST).memory(fwdDst.output(y));
        if (spec.hasBias()) {
            Conv2dPlan.check(spec, "b", spec.biasShape(), b);
            handles.bind(bias, b);
            args.position(n++).arg(DNNL_ARG_BIAS).memory(bias);
        }
        handles.check(dnnl_primitive_execute(forward, backend.stream(), n, args.position(0)), "dnnl_primitive_execute");
        fwdDst.finishOutput();
    }

    @Override
    public void backwardData(Tensor dy, Tensor w, Tensor dx) {
        try {
            runBackwardData(dy, w, dx);
        } finally {
            calls.freeAll();   // the call's layout buffers go back to the pool
        }
    }

    private void runBackwardData(Tensor dy, Tensor w, Tensor dx) {
        Conv2dPlan.check(spec, "dy", spec.outputShape(), dy);
        Conv2dPlan.check(spec, "w", spec.weightShape(), w);
        Conv2dPlan.check(spec, "dx", spec.inputShape(), dx);
        if (backwardData == null) {
            backend.enterCreation(spec.flops());
            dnnl_memory_desc[] any = anyDescs(handles, spec);
            Geometry g = new Geometry(spec);
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            handles.check(dnnl_convolution_backward_data_primitive_desc_create(pd, backend.engine(), dnnl_convolution_direct,
                    any[0], any[1], any[3], g.strides, g.dilates, g.padding, g.padding, forwardPd, null),
                    "dnnl_convolution_backward_data_primitive_desc_create");
            handles.own(pd);
            bwdDataDiffDst = new Layout(backend, handles, calls, plain[3], query(pd, dnnl_query_diff_dst_md), true, false);
            bwdDataWeights = new Layout(backend, handles, calls, plain[1], query(pd, dnnl_query_weights_md), true, false);
            bwdDataDiffSrc = new Layout(backend, handles, calls, plain[0], query(pd, dnnl_query_diff_src_md), false, true);
            backwardData = new dnnl_primitive();
            handles.check(dnnl_primitive_create(backwardData, pd), "dnnl_primitive_create");
            handles.own(backwardData);
        }
        backend.enterKernel(spec.flops());
        args.position(0).arg(DNNL_ARG_DIFF_DST).memory(bwdDataDiffDst.input(dy));
        args.position(1).arg(DNNL_ARG_WEIGHTS).memory(bwdDataWeights.input(w));
        args.position(2).arg(DNNL_ARG_DIFF_SRC).memory(bwdDataDiffSrc.output(dx));
        handles.check(dnnl_primitive_execute(backwardData, backend.stream(), 3, args.position(0)), "dnnl_primitive_execute");
        bwdDataDiffSrc.finishOutput();
    }

    @Override
    public void backwardWeights(Tensor x, Tensor dy, Tensor dw, Tensor db) {
        try {
            runBackwardWeights(x, dy, dw, db);
        } finally {
            calls.freeAll();   // the call's layout buffers go back to the pool
        }
    }

    private void runBackwardWeights(Tensor x, Tensor dy, Tensor dw, Tensor db) {
        Conv2dPlan.check(spec, "x", spec.inputShape(), x);
        Conv2dPlan.check(spec, "dy", spec.outputShape(), dy);
        Conv2dPlan.check(spec, "dw", spec.weightShape(), dw);
        if (backwardWeights == null) {
            backend.enterCreation(spec.flops());
            dnnl_memory_desc[] any = anyDescs(handles, spec);
            Geometry g = new Geometry(spec);
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            handles.check(dnnl_convolution_backward_weights_primitive_desc_create(pd, backend.engine(),
                    dnnl_convolution_direct, any[0], any[1], plain[2], any[3], g.strides, g.dilates, g.padding,
                    g.padding, forwardPd, null), "dnnl_convolution_backward_weights_primitive_desc_create");
            handles.own(pd);
            bwdWeightsSrc = new Layout(backend, handles, calls, plain[0], query(pd, dnnl_query_src_md), true, false);
            bwdWeightsDiffDst = new Layout(backend, handles, calls, plain[3], query(pd, dnnl_query_diff_dst_md), true, false);
            bwdWeightsDiffWeights = new Layout(backend, handles, calls, plain[1], query(pd, dnnl_query_diff_weights_md),
                    false, true);
            backwardWeights = new dnnl_primitive();
            handles.check(dnnl_primitive_create(backwardWeights, pd), "dnnl_primitive_create");
            handles.own(backwardWeights);
        }
        backend.enterKernel(spec.flops());
        int n = 0;
        args.position(n++).arg(DNNL_ARG_SRC).memory(bwdWeightsSrc.input(x));
        args.position(n++).arg(DNNL_ARG_DIFF_DST).memory(bwdWeightsDiffDst.input(dy));
        args.position(n++).arg(DNNL_ARG_DIFF_WEIGHTS).memory(bwdWeightsDiffWeights.output(dw));
        if (spec.hasBias()) {
            Conv2dPlan.check(spec, "db", spec.biasShape(), db);
            handles.bind(bias, db);
            args.position(n++).arg(DNNL_ARG_DIFF_BIAS).memory(bias);
        }
        handles.check(dnnl_primitive_execute(backwardWeights, backend.stream(), n, args.position(0)),
                "dnnl_primitive_execute");
        bwdWeightsDiffWeights.finishOutput();
    }

    @Override
    public void close() {
        for (Layout l : new Layout[] {fwdSrc, fwdWeights, fwdDst, bwdDataDiffDst, bwdDataWeights, bwdDataDiffSrc,
                bwdWeightsSrc, bwdWeightsDiffDst, bwdWeightsDiffWeights}) {
            if (l != null) {
                l.close();
            }
        }
        args.close();
        handles.close();
        calls.close();
        scratch.close();
    }

    @Override
    public String toString() {
        return "dnnl " + spec;
    }
}
