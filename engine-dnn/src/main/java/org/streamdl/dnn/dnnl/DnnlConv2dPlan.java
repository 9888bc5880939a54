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
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_training;
import static org.bytedeco.dnnl.global.dnnl.dnnl_goihw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_nchw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_oihw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;

import java.util.Optional;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.LongPointer;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.Conv2dSpec;

/**
 * oneDNN convolution on plain NCHW activations and OIHW weights: forward (with ReLU fused as a
 * post-op when the spec asks), backward data and backward weights, the backward primitives built
 * lazily on first use with the forward descriptor as their hint.
 */
final class DnnlConv2dPlan implements Conv2dPlan {
    private final Conv2dSpec spec;
    private final DnnlBackend backend;
    private final Native handles;
    private final dnnl_primitive_desc forwardPd;
    private final dnnl_primitive forward;
    private final dnnl_memory_desc srcMd;
    private final dnnl_memory_desc weightsMd;
    private final dnnl_memory_desc biasMd;
    private final dnnl_memory_desc dstMd;
    private final dnnl_memory src;
    private final dnnl_memory weights;
    private final dnnl_memory bias;
    private final dnnl_memory dst;
    private final dnnl_exec_arg_t args = new dnnl_exec_arg_t(5);
    private dnnl_primitive backwardData;
    private dnnl_primitive backwardWeights;

    private DnnlConv2dPlan(Conv2dSpec spec, DnnlBackend backend, Native handles, dnnl_primitive_desc forwardPd,
                           dnnl_primitive forward, dnnl_memory_desc[] mds) {
        this.spec = spec;
        this.backend = backend;
        this.handles = handles;
        this.forwardPd = forwardPd;
        this.forward = forward;
        this.srcMd = mds[0];
        this.weightsMd = mds[1];
        this.biasMd = mds[2];
        this.dstMd = mds[3];
        this.src = handles.memory(srcMd, backend.engine());
        this.weights = handles.memory(weightsMd, backend.engine());
        this.bias = biasMd == null ? null : handles.memory(biasMd, backend.engine());
        this.dst = handles.memory(dstMd, backend.engine());
    }

    static Optional<Conv2dPlan> create(DnnlBackend backend, Conv2dSpec spec) {
        Native handles = new Native(spec);
        try {
            dnnl_memory_desc[] mds = descs(handles, spec);
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            Geometry g = new Geometry(spec);
            if (!handles.implemented(dnnl_convolution_forward_primitive_desc_create(pd, backend.engine(),
                    dnnl_forward_training, dnnl_convolution_direct, mds[0], mds[1], mds[2], mds[3],
                    g.strides, g.dilates, g.padding, g.padding, handles.attr(spec.relu(), 0f, false)),
                    "dnnl_convolution_forward_primitive_desc_create")) {
                handles.close();
                return Optional.empty();
            }
            handles.own(pd);
            dnnl_primitive primitive = new dnnl_primitive();
            handles.check(dnnl_primitive_create(primitive, pd), "dnnl_primitive_create");
            handles.own(primitive);
            return Optional.of(new DnnlConv2dPlan(spec, backend, handles, pd, primitive, mds));
        } catch (RuntimeException e) {
            handles.close();
            throw e;
        }
    }

    /** src, weights, bias (null without), dst: plain layouts, the same our tensors use. */
    private static dnnl_memory_desc[] descs(Native handles, Conv2dSpec spec) {
        dnnl_memory_desc src = handles.desc(spec.inputShape().dims(), dnnl_f32, dnnl_nchw);
        dnnl_memory_desc weights;
        if (spec.groups() == 1) {
            weights = handles.desc(spec.weightShape().dims(), dnnl_f32, dnnl_oihw);
        } else {
            long[] w = spec.weightShape().dims();
            weights = handles.desc(new long[] {spec.groups(), w[0] / spec.groups(), w[1], w[2], w[3]}, dnnl_f32, dnnl_goihw);
        }
        dnnl_memory_desc bias = spec.hasBias() ? handles.desc(spec.biasShape().dims(), dnnl_f32, dnnl_a) : null;
        dnnl_memory_desc dst = handles.desc(spec.outputShape().dims(), dnnl_f32, dnnl_nchw);
        return new dnnl_memory_desc[] {src, weights, bias, dst};
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
        Conv2dPlan.check(spec, "x", spec.inputShape(), x);
        Conv2dPlan.check(spec, "w", spec.weightShape(), w);
        Conv2dPlan.check(spec, "y", spec.outputShape(), y);
        backend.enterKernel();
        handles.bind(src, x);
        handles.bind(weights, w);
        handles.bind(dst, y);
        int n = 0;
        args.position(n++).arg(DNNL_ARG_SRC).memory(src);
        args.position(n++).arg(DNNL_ARG_WEIGHTS).memory(weights);
        args.position(n++).arg(DNNL_ARG_DST).memory(dst);
        if (spec.hasBias()) {
            Conv2dPlan.check(spec, "b", spec.biasShape(), b);
            handles.bind(bias, b);
            args.position(n++).arg(DNNL_ARG_BIAS).memory(bias);
        }
        handles.check(dnnl_primitive_execute(forward, backend.stream(), n, args.position(0)), "dnnl_primitive_execute");
    }

    @Override
    public void backwardData(Tensor dy, Tensor w, Tensor dx) {
        Conv2dPlan.check(spec, "dy", spec.outputShape(), dy);
        Conv2dPlan.check(spec, "w", spec.weightShape(), w);
        Conv2dPlan.check(spec, "dx", spec.inputShape(), dx);
        if (backwardData == null) {
            Geometry g = new Geometry(spec);
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            handles.check(dnnl_convolution_backward_data_primitive_desc_create(pd, backend.engine(), dnnl_convolution_direct,
                    srcMd, weightsMd, dstMd, g.strides, g.dilates, g.padding, g.padding, forwardPd, null),
                    "dnnl_convolution_backward_data_primitive_desc_create");
            handles.own(pd);
            backwardData = new dnnl_primitive();
            handles.check(dnnl_primitive_create(backwardData, pd), "dnnl_primitive_create");
            handles.own(backwardData);
        }
        backend.enterKernel();
        handles.bind(dst, dy);
        handles.bind(weights, w);
        handles.bind(src, dx);
        args.position(0).arg(DNNL_ARG_DIFF_DST).memory(dst);
        args.position(1).arg(DNNL_ARG_WEIGHTS).memory(weights);
        args.position(2).arg(DNNL_ARG_DIFF_SRC).memory(src);
        handles.check(dnnl_primitive_execute(backwardData, backend.stream(), 3, args.position(0)), "dnnl_primitive_execute");
    }

    @Override
    public void backwardWeights(Tensor x, Tensor dy, Tensor dw, Tensor db) {
        Conv2dPlan.check(spec, "x", spec.inputShape(), x);
        Conv2dPlan.check(spec, "dy", spec.outputShape(), dy);
        Conv2dPlan.check(spec, "dw", spec.weightShape(), dw);
        if (backwardWeights == null) {
            Geometry g = new Geometry(spec);
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            handles.check(dnnl_convolution_backward_weights_primitive_desc_create(pd, backend.engine(),
                    dnnl_convolution_direct, srcMd, weightsMd, biasMd, dstMd, g.strides, g.dilates, g.padding,
                    g.padding, forwardPd, null), "dnnl_convolution_backward_weights_primitive_desc_create");
            handles.own(pd);
            backwardWeights = new dnnl_primitive();
            handles.check(dnnl_primitive_create(backwardWeights, pd), "dnnl_primitive_create");
            handles.own(backwardWeights);
        }
        backend.enterKernel();
        handles.bind(src, x);
        handles.bind(dst, dy);
        handles.bind(weights, dw);
        int n = 0;
        args.position(n++).arg(DNNL_ARG_SRC).memory(src);
        args.position(n++).arg(DNNL_ARG_DIFF_DST).memory(dst);
        args.position(n++).arg(DNNL_ARG_DIFF_WEIGHTS).memory(weights);
        if (spec.hasBias()) {
            Conv2dPlan.check(spec, "db", spec.biasShape(), db);
            handles.bind(bias, db);
            args.position(n++).arg(DNNL_ARG_DIFF_BIAS).memory(bias);
        }
        handles.check(dnnl_primitive_execute(backwardWeights, backend.stream(), n, args.position(0)),
                "dnnl_primitive_execute");
    }

    @Override
    public void close() {
        args.close();
        handles.close();
    }

    @Override
    public String toString() {
        return "dnnl " + spec;
    }
}
