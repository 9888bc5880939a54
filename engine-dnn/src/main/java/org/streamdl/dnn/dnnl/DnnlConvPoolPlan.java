package org.streamdl.dnn.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WORKSPACE;
import static org.bytedeco.dnnl.global.dnnl.dnnl_a;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_backward_data_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_backward_weights_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_direct;
import static org.bytedeco.dnnl.global.dnnl.dnnl_convolution_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_format_tag_any;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_training;
import static org.bytedeco.dnnl.global.dnnl.dnnl_goihw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;
import static org.bytedeco.dnnl.global.dnnl.dnnl_nchw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_oihw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_avg_exclude_padding;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_avg_include_padding;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_backward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_max;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_diff_dst_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_diff_src_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_diff_weights_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_dst_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_src_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_weights_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_workspace_md;

import java.nio.IntBuffer;
import java.util.Optional;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.LongPointer;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.Conv2dSpec;
import org.streamdl.tensor.spi.ConvPoolPlan;
import org.streamdl.tensor.spi.ConvPoolSpec;
import org.streamdl.tensor.spi.Pool2dSpec;

/**
 * Convolution (ReLU fused) and pooling as one unit: the convolution writes its output in the
 * layout it prefers (channel-blocked) and the pooling reads it there, so the largest tensor of the
 * block is never reordered to NCHW and back; only the input and the pooled output cross the plain
 * boundary. Backward runs pooling backward into the same blocked layout, masks it with the ReLU's
 * output, and feeds both convolution backward passes without a reorder.
 */
final class DnnlConvPoolPlan implements ConvPoolPlan {
    private final ConvPoolSpec spec;
    private final DnnlBackend backend;
    private final Native handles;
    private final Allocator scratch;          // what the plan keeps: the weights in the preferred layout
    private final Allocator calls;            // what one call needs: activations in the preferred layouts
    private final dnnl_primitive_desc convPd;
    private final dnnl_primitive_desc poolTrainingPd;
    private final dnnl_primitive conv;
    private final dnnl_primitive poolTraining;
    private final dnnl_memory_desc blockedMd;      // the convolution's output layout
    private final long blockedBytes;
    private final Shape blockedBuffer;             // blockedBytes as a uint8 shape, for per-call buffers
    private final long poolWorkspaceBytes;
    private final Layout x;
    private final Layout w;
    private final Layout y;
    private final dnnl_memory bias;
    private final dnnl_memory blocked;             // bound to the convolution output
    private final dnnl_memory poolWs;
    private final dnnl_memory_desc[] plain;        // src, weights, bias, pool dst
    private final dnnl_exec_arg_t args = new dnnl_exec_arg_t(5);
    private dnnl_primitive poolInference;
    private Layout yInference;
    private Backward backward;

    /** The backward primitives and layouts, built on the first backward pass. */
    private record Backward(dnnl_primitive pool, Layout dy, dnnl_memory diffBlocked,
                            dnnl_primitive weights, Layout weightsSrc, Layout weightsDiffDst, Layout diffWeights,
                            dnnl_primitive data, Layout dataDiffDst, Layout dataWeights, Layout diffSrc) {}

    private DnnlConvPoolPlan(ConvPoolSpec spec, DnnlBackend backend, Native handles, Allocator scratch,
                             dnnl_primitive_desc convPd, dnnl_primitive conv, dnnl_primitive_desc poolTrainingPd,
                             dnnl_primitive poolTraining, dnnl_memory_desc[] plain) {
        this.spec = spec;
        this.backend = backend;
        this.handles = handles;
        this.scratch = scratch;
        this.calls = scratch.newChild("calls");
        this.convPd = convPd;
        this.conv = conv;
        this.poolTrainingPd = poolTrainingPd;
        this.poolTraining = poolTraining;
        this.plain = plain;
        this.blockedMd = query(convPd, dnnl_query_dst_md);
        this.blockedBytes = align(dnnl_memory_desc_get_size(blockedMd));
        this.blockedBuffer = Shape.of(blockedBytes);
        dnnl_memory_desc wsMd = query(poolTrainingPd, dnnl_query_workspace_md);
        this.poolWorkspaceBytes = wsMd == null || wsMd.isNull() ? 0 : dnnl_memory_desc_get_size(wsMd);
        this.x = new Layout(backend, handles, calls, plain[0], query(convPd, dnnl_query_src_md), true, false);
        this.w = Layout.persistent(backend, handles, scratch, plain[1], query(convPd, dnnl_query_weights_md));
        this.y = new Layout(backend, handles, calls, plain[3], query(poolTrainingPd, dnnl_query_dst_md), false, true);
        this.bias = plain[2] == null ? null : handles.memory(plain[2], backend.engine());
        this.blocked = handles.memory(blockedMd, backend.engine());
        this.poolWs = poolWorkspaceBytes == 0 ? null : handles.memory(wsMd, backend.engine());
    }

    private static dnnl_memory_desc query(dnnl_primitive_desc pd, int what) {
        return dnnl_primitive_desc_query_md(pd, what, 0);
    }

    private static long align(long bytes) {
        return (bytes + 63) / 64 * 64;
    }

    static Optional<ConvPoolPlan> create(DnnlBackend backend, ConvPoolSpec spec, Allocator memory) {
        backend.enterCreation(spec.conv().flops());
        Native handles = new Native(spec);
        Allocator scratch = memory.newChild("dnnl " + spec);
        try {
            Conv2dSpec c = spec.conv();
            long[] weightDims = c.groups() == 1 ? c.weightShape().dims() : groupedWeights(c);
            dnnl_memory_desc[] plain = {
                handles.desc(c.inputShape().dims(), dnnl_f32, dnnl_nchw),
                handles.desc(weightDims, dnnl_f32, c.groups() == 1 ? dnnl_oihw : dnnl_goihw),
                c.hasBias() ? handles.desc(c.biasShape().dims(), dnnl_f32, dnnl_a) : null,
                handles.desc(spec.outputShape().dims(), dnnl_f32, dnnl_nchw)};
            dnnl_primitive_desc convPd = new dnnl_primitive_desc();
            if (!handles.implemented(dnnl_convolution_forward_primitive_desc_create(convPd, backend.engine(),
                    dnnl_forward_training, dnnl_convolution_direct,
                    handles.desc(c.inputShape().dims(), dnnl_f32, dnnl_format_tag_any),
                    handles.desc(weightDims, dnnl_f32, dnnl_format_tag_any), plain[2],
                    handles.desc(c.outputShape().dims(), dnnl_f32, dnnl_format_tag_any),
                    strides(c), dilates(c), padding(c), padding(c), handles.attr(c.relu(), 0f, false)),
                    "dnnl_convolution_forward_primitive_desc_create")) {
                handles.close();
                scratch.close();
                return Optional.empty();
            }
            handles.own(convPd);
            dnnl_primitive_desc poolPd = poolForward(handles, backend, spec, dnnl_forward_training, query(convPd, dnnl_query_dst_md));
            if (poolPd == null) {
                handles.close();
                scratch.close();
                return Optional.empty();
            }
            dnnl_primitive conv = new dnnl_primitive();
            handles.check(dnnl_primitive_create(conv, convPd), "dnnl_primitive_create");
            handles.own(conv);
            dnnl_primitive pool = new dnnl_primitive();
            handles.check(dnnl_primitive_create(pool, poolPd), "dnnl_primitive_create");
            handles.own(pool);
            return Optional.of(new DnnlConvPoolPlan(spec, backend, handles, scratch, convPd, conv, poolPd, pool, plain));
        } catch (RuntimeException e) {
            handles.close();
            scratch.close();
            throw e;
        }
    }

    private static dnnl_primitive_desc poolForward(Native handles, DnnlBackend backend, ConvPoolSpec spec, int prop,
                                                   dnnl_memory_desc src) {
        Pool2dSpec p = spec.pool();
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        if (!handles.implemented(dnnl_pooling_forward_primitive_desc_create(pd, backend.engine(), prop, algorithm(p), src,
                handles.desc(p.outputShape().dims(), dnnl_f32, dnnl_format_tag_any), new LongPointer(p.strideH(), p.strideW()),
                new LongPointer(p.kernelH(), p.kernelW()), new LongPointer(0, 0), new LongPointer(0, 0),
                new LongPointer(0, 0), null), "dnnl_pooling_forward_primitive_desc_create")) {
            return null;
        }
        handles.own(pd);
        return pd;
    }

    private static int algorithm(Pool2dSpec p) {
        if (p.kind() == Pool2dSpec.Kind.MAX) {
            return dnnl_pooling_max;
        }
        return p.countIncludePad() ? dnnl_pooling_avg_include_padding : dnnl_pooling_avg_exclude_padding;
    }

    private static long[] groupedWeights(Conv2dSpec c) {
        long[] wd = c.weightShape().dims();
        return new long[] {c.groups(), wd[0] / c.groups(), wd[1], wd[2], wd[3]};
    }

    private static LongPointer strides(Conv2dSpec c) {
        return new LongPointer(c.strideH(), c.strideW());
    }

    private static LongPointer dilates(Conv2dSpec c) {
        return new LongPointer(c.dilationH() - 1, c.dilationW() - 1);
    }

    private static LongPointer padding(Conv2dSpec c) {
        return new LongPointer(c.padH(), c.padW());
    }

    @Override
    public ConvPoolSpec spec() {
        return spec;
    }

    @Override
    public long workspaceBytes() {
        return blockedBytes + poolWorkspaceBytes;
    }

    private void checkWorkspace(Tensor workspace) {
        Checks.argument(workspace.dtype() == DType.UINT8 && workspace.isContiguous()
                        && workspace.elementCount() >= workspaceBytes(),
                "%s: the workspace must be a contiguous uint8 tensor of %s bytes but is %s", spec, workspaceBytes(), workspace);
    }

    @Override
    public void forward(Tensor tx, Tensor tw, Tensor tb, Tensor ty, Tensor workspace) {
        try {
            runForward(tx, tw, tb, ty, workspace);
        } finally {
            calls.freeAll();   // the call's layout buffers go back to the pool
        }
    }

    private void runForward(Tensor tx, Tensor tw, Tensor tb, Tensor ty, Tensor workspace) {
        Conv2dSpec c = spec.conv();
        Conv2dPlan.check(spec, "x", c.inputShape(), tx);
        Conv2dPlan.check(spec, "w", c.weightShape(), tw);
        Conv2dPlan.check(spec, "y", spec.outputShape(), ty);
        backend.enterKernel(c.flops());
        Tensor convOut;
        if (workspace != null) {
            checkWorkspace(workspace);
            convOut = workspace.narrow(0, 0, blockedBytes);
        } else {
            convOut = calls.allocateUninitialized(DType.UINT8, blockedBuffer);
        }
        handles.bind(blocked, convOut);
        int n = 0;
        args.position(n++).arg(DNNL_ARG_SRC).memory(x.input(tx));
        args.position(n++).arg(DNNL_ARG_WEIGHTS).memory(w.inputUnlessUnchanged(tw));
        args.position(n++).arg(DNNL_ARG_DST).memory(blocked);
        if (c.hasBias()) {
            Conv2dPlan.check(spec, "b", c.biasShape(), tb);
            handles.bind(bias, tb);
            args.position(n++).arg(DNNL_ARG_BIAS).memory(bias);
        }
        handles.check(dnnl_primitive_execute(conv, backend.stream(), n, args.position(0)), "dnnl_primitive_execute (conv)");
        if (workspace != null) {
            args.position(0).arg(DNNL_ARG_SRC).memory(blocked);
            args.position(1).arg(DNNL_ARG_DST).memory(y.output(ty));
            n = 2;
            if (poolWs != null) {
                handles.bind(poolWs, workspace.narrow(0, blockedBytes, poolWorkspaceBytes));
                args.position(n++).arg(DNNL_ARG_WORKSPACE).memory(poolWs);
            }
            handles.check(dnnl_primitive_execute(poolTraining, backend.stream(), n, args.position(0)), "dnnl_primitive_execute (pool)");
            y.finishOutput();
            return;
        }
        if (poolInference == null) {
            dnnl_primitive_desc pd = poolForward(handles, backend, spec, dnnl_forward_inference, blockedMd);
            Checks.state(pd != null, "%s: oneDNN has a training but no inference pooling", spec);
            poolInference = new dnnl_primitive();
            handles.check(dnnl_primitive_create(poolInference, pd), "dnnl_primitive_create");
            handles.own(poolInference);
            yInference = new Layout(backend, handles, calls, plain[3], query(pd, dnnl_query_dst_md), false, true);
        }
        args.position(0).arg(DNNL_ARG_SRC).memory(blocked);
        args.position(1).arg(DNNL_ARG_DST).memory(yInference.output(ty));
        handles.check(dnnl_primitive_execute(poolInference, backend.stream(), 2, args.position(0)), "dnnl_primitive_execute (pool)");
        yInference.finishOutput();
    }

    private Backward backwardPrimitives() {
        if (backward != null) {
            return backward;
        }
        Conv2dSpec c = spec.conv();
        Pool2dSpec p = spec.pool();
        backend.enterCreation(c.flops());
        dnnl_primitive_desc poolPd = new dnnl_primitive_desc();
        handles.check(dnnl_pooling_backward_primitive_desc_create(poolPd, backend.engine(), algorithm(p), blockedMd,
                handles.desc(p.outputShape().dims(), dnnl_f32, dnnl_format_tag_any), new LongPointer(p.strideH(), p.strideW()),
                new LongPointer(p.kernelH(), p.kernelW()), new LongPointer(0, 0), new LongPointer(0, 0),
                new LongPointer(0, 0), poolTrainingPd, null), "dnnl_pooling_backward_primitive_desc_create");
        handles.own(poolPd);
        dnnl_primitive pool = new dnnl_primitive();
        handles.check(dnnl_primitive_create(pool, poolPd), "dnnl_primitive_create");
        handles.own(pool);
        Layout dy = new Layout(backend, handles, calls, plain[3], query(poolPd, dnnl_query_diff_dst_md), true, false);
        dnnl_memory diffBlocked = handles.memory(blockedMd, backend.engine());

        long[] weightDims = c.groups() == 1 ? c.weightShape().dims() : groupedWeights(c);
        dnnl_primitive_desc weightsPd = new dnnl_primitive_desc();
        handles.check(dnnl_convolution_backward_weights_primitive_desc_create(weightsPd, backend.engine(),
                dnnl_convolution_direct, handles.desc(c.inputShape().dims(), dnnl_f32, dnnl_format_tag_any),
                handles.desc(weightDims, dnnl_f32, dnnl_format_tag_any), plain[2],
                handles.desc(c.outputShape().dims(), dnnl_f32, dnnl_format_tag_any), strides(c), dilates(c),
                padding(c), padding(c), convPd, null), "dnnl_convolution_backward_weights_primitive_desc_create");
        handles.own(weightsPd);
        dnnl_primitive weights = new dnnl_primitive();
        handles.check(dnnl_primitive_create(weights, weightsPd), "dnnl_primitive_create");
        handles.own(weights);

        dnnl_primitive_desc dataPd = new dnnl_primitive_desc();
        handles.check(dnnl_convolution_backward_data_primitive_desc_create(dataPd, backend.engine(), dnnl_convolution_direct,
                handles.desc(c.inputShape().dims(), dnnl_f32, dnnl_format_tag_any),
                handles.desc(weightDims, dnnl_f32, dnnl_format_tag_any),
                handles.desc(c.outputShape().dims(), dnnl_f32, dnnl_format_tag_any), strides(c), dilates(c), padding(c),
                padding(c), convPd, null), "dnnl_convolution_backward_data_primitive_desc_create");
        handles.own(dataPd);
        dnnl_primitive data = new dnnl_primitive();
        handles.check(dnnl_primitive_create(data, dataPd), "dnnl_primitive_create");
        handles.own(data);
        // backward kernels may want the gradient in another layout than the forward output's (a fixed
        // layout made oneDNN fall back to its reference kernel, 1000 times slower): reorder when so
        backward = new Backward(pool, dy, diffBlocked, weights,
                new Layout(backend, handles, calls, plain[0], query(weightsPd, dnnl_query_src_md), true, false),
                new Layout(backend, handles, calls, blockedMd, query(weightsPd, dnnl_query_diff_dst_md), true, false),
                new Layout(backend, handles, calls, plain[1], query(weightsPd, dnnl_query_diff_weights_md), false, true),
                data,
                new Layout(backend, handles, calls, blockedMd, query(dataPd, dnnl_query_diff_dst_md), true, false),
                new Layout(backend, handles, calls, plain[1], query(dataPd, dnnl_query_weights_md), true, false),
                new Layout(backend, handles, calls, plain[0], query(dataPd, dnnl_query_diff_src_md), false, true));
        return backward;
    }

    @Override
    public void backward(Tensor tx, Tensor tw, Tensor ty, Tensor tdy, Tensor workspace, Tensor tdx, Tensor tdw, Tensor tdb) {
        try {
            runBackward(tx, tw, ty, tdy, workspace, tdx, tdw, tdb);
        } finally {
            calls.freeAll();   // the call's layout buffers go back to the pool
        }
    }

    private void runBackward(Tensor tx, Tensor tw, Tensor ty, Tensor tdy, Tensor workspace, Tensor tdx, Tensor tdw, Tensor tdb) {
        Conv2dSpec c = spec.conv();
        Conv2dPlan.check(spec, "x", c.inputShape(), tx);
        Conv2dPlan.check(spec, "dy", spec.outputShape(), tdy);
        Conv2dPlan.check(spec, "dw", c.weightShape(), tdw);
        Checks.argument(workspace != null, "%s: backward needs the workspace of the forward pass", spec);
        checkWorkspace(workspace);
        Backward b = backwardPrimitives();
        // Max pooling after a ReLU: the pooled value is positive exactly when the position it came from
        // passed the ReLU, so masking dy by y > 0 before pooling backward equals masking the (four
        // times larger, channel-padded) convolution gradient after it
        boolean maskBeforePooling = c.relu() && spec.pool().kind() == Pool2dSpec.Kind.MAX;
        Tensor g = tdy;
        if (maskBeforePooling) {
            Conv2dPlan.check(spec, "y", spec.outputShape(), ty);
            g = maskedCopy(tdy, ty);
        }
        backend.enterKernel(c.flops());
        Tensor diffBuffer = calls.allocateUninitialized(DType.UINT8, blockedBuffer);
        handles.bind(b.diffBlocked(), diffBuffer);
        int n = 0;
        args.position(n++).arg(DNNL_ARG_DIFF_DST).memory(b.dy().input(g));
        args.position(n++).arg(DNNL_ARG_DIFF_SRC).memory(b.diffBlocked());
        if (poolWs != null) {
            handles.bind(poolWs, workspace.narrow(0, blockedBytes, poolWorkspaceBytes));
            args.position(n++).arg(DNNL_ARG_WORKSPACE).memory(poolWs);
        }
        handles.check(dnnl_primitive_execute(b.pool(), backend.stream(), n, args.position(0)), "dnnl_primitive_execute (pool backward)");
        if (c.relu() && !maskBeforePooling) {
            reluMask(diffBuffer, workspace.narrow(0, 0, blockedBytes));
        }
        n = 0;
        args.position(n++).arg(DNNL_ARG_SRC).memory(b.weightsSrc().input(tx));
        args.position(n++).arg(DNNL_ARG_DIFF_DST).memory(b.weightsDiffDst().input(diffBuffer));
        args.position(n++).arg(DNNL_ARG_DIFF_WEIGHTS).memory(b.diffWeights().output(tdw));
        if (c.hasBias()) {
            Conv2dPlan.check(spec, "db", c.biasShape(), tdb);
            handles.bind(bias, tdb);
            args.position(n++).arg(DNNL_ARG_DIFF_BIAS).memory(bias);
        }
        handles.check(dnnl_primitive_execute(b.weights(), backend.stream(), n, args.position(0)),
                "dnnl_primitive_execute (conv backward weights)");
        b.diffWeights().finishOutput();
        if (tdx != null) {
            Conv2dPlan.check(spec, "dx", c.inputShape(), tdx);
            args.position(0).arg(DNNL_ARG_DIFF_DST).memory(b.dataDiffDst().input(diffBuffer));
            args.position(1).arg(DNNL_ARG_WEIGHTS).memory(b.dataWeights().input(tw));
            args.position(2).arg(DNNL_ARG_DIFF_SRC).memory(b.diffSrc().output(tdx));
            handles.check(dnnl_primitive_execute(b.data(), backend.stream(), 3, args.position(0)),
                    "dnnl_primitive_execute (conv backward data)");
            b.diffSrc().finishOutput();
        }
    }

    /** dy where y > 0, else 0, in a tensor of the call's memory (both plain NCHW). */
    private Tensor maskedCopy(Tensor dy, Tensor y) {
        Tensor maskedDy = calls.allocateUninitialized(DType.FLOAT32, spec.outputShape());
        IntBuffer g = dy.buffer().asIntBuffer();
        IntBuffer v = y.buffer().asIntBuffer();
        IntBuffer out = maskedDy.buffer().asIntBuffer();
        int n = (int) dy.elementCount();
        int[] gc = new int[4096];
        int[] vc = new int[4096];
        for (int from = 0; from < n; from += 4096) {
            int len = Math.min(4096, n - from);
            g.get((int) dy.offset() + from, gc, 0, len);
            v.get((int) y.offset() + from, vc, 0, len);
            maskWherePositive(gc, vc, len);
            out.put(from, gc, 0, len);
        }
        return maskedDy;
    }

    /**
     * g ← (v > 0) ? g : 0 on the floats' bits, without a branch: a ReLU mask is a coin toss per
     * element, and the branchy loop spent most of its time in mispredictions. With b the bits of v,
     * {@code (-b & (b - 0x7f800001)) >> 31} is all ones exactly for 0 < b ≤ +∞ (positive floats),
     * and zero for ±0, negatives and NaN.
     */
    static void maskWherePositive(int[] g, int[] v, int len) {
        for (int i = 0; i < len; i++) {
            int b = v[i];
            g[i] &= (-b & (b - 0x7f800001)) >> 31;
        }
    }

    /**
     * Zeroes the gradient where the ReLU's output was not positive. Both buffers hold the same
     * (blocked) layout, so position i means the same element in each; padding is zero in both.
     */
    private static void reluMask(Tensor gradientBytes, Tensor outputBytes) {
        IntBuffer g = gradientBytes.buffer().asIntBuffer();
        IntBuffer v = outputBytes.buffer().asIntBuffer();
        int gBase = (int) (gradientBytes.offset() / 4);
        int vBase = (int) (outputBytes.offset() / 4);
        int n = (int) (outputBytes.elementCount() / 4);
        int[] gc = new int[4096];
        int[] vc = new int[4096];
        for (int from = 0; from < n; from += 4096) {
            int len = Math.min(4096, n - from);
            g.get(gBase + from, gc, 0, len);
            v.get(vBase + from, vc, 0, len);
            maskWherePositive(gc, vc, len);
            g.put(gBase + from, gc, 0, len);
        }
    }

    @Override
    public void close() {
        for (Layout l : new Layout[] {x, w, y, yInference}) {
            if (l != null) {
                l.close();
            }
        }
        if (backward != null) {
            for (Layout l : new Layout[] {backward.dy(), backward.weightsSrc(), backward.weightsDiffDst(),
                    backward.diffWeights(), backward.dataDiffDst(), backward.dataWeights(), backward.diffSrc()}) {
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
