package org.streamdl.dnn.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WORKSPACE;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_inference;
import static org.bytedeco.dnnl.global.dnnl.dnnl_forward_training;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;
import static org.bytedeco.dnnl.global.dnnl.dnnl_nchw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_avg_exclude_padding;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_avg_include_padding;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_backward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_forward_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_pooling_max;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_query_md;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_query_workspace_md;

import java.util.Optional;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.LongPointer;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.Pool2dPlan;
import org.streamdl.tensor.spi.Pool2dSpec;

/** oneDNN pooling on NCHW: training forward with a workspace, inference forward without, and backward. */
final class DnnlPool2dPlan implements Pool2dPlan {
    private final Pool2dSpec spec;
    private final DnnlBackend backend;
    private final Native handles;
    private final dnnl_primitive_desc trainingPd;
    private final dnnl_primitive training;
    private final dnnl_memory_desc srcMd;
    private final dnnl_memory_desc dstMd;
    private final dnnl_memory src;
    private final dnnl_memory dst;
    private final dnnl_memory workspace;
    private final long workspaceBytes;
    private final dnnl_exec_arg_t args = new dnnl_exec_arg_t(3);
    private dnnl_primitive inference;
    private dnnl_primitive backward;

    private DnnlPool2dPlan(Pool2dSpec spec, DnnlBackend backend, Native handles, dnnl_primitive_desc trainingPd,
                           dnnl_primitive training, dnnl_memory_desc srcMd, dnnl_memory_desc dstMd) {
        this.spec = spec;
        this.backend = backend;
        this.handles = handles;
        this.trainingPd = trainingPd;
        this.training = training;
        this.srcMd = srcMd;
        this.dstMd = dstMd;
        this.src = handles.memory(srcMd, backend.engine());
        this.dst = handles.memory(dstMd, backend.engine());
        dnnl_memory_desc wsMd = dnnl_primitive_desc_query_md(trainingPd, dnnl_query_workspace_md, 0);
        this.workspaceBytes = wsMd == null || wsMd.isNull() ? 0 : dnnl_memory_desc_get_size(wsMd);
        this.workspace = workspaceBytes == 0 ? null : handles.memory(wsMd, backend.engine());
    }

    static Optional<Pool2dPlan> create(DnnlBackend backend, Pool2dSpec spec) {
        backend.enterCreation((double) spec.outputShape().elementCount() * spec.kernelH() * spec.kernelW());
        Native handles = new Native(spec);
        try {
            dnnl_memory_desc srcMd = handles.desc(spec.inputShape().dims(), dnnl_f32, dnnl_nchw);
            dnnl_memory_desc dstMd = handles.desc(spec.outputShape().dims(), dnnl_f32, dnnl_nchw);
            dnnl_primitive_desc pd = forwardPd(handles, backend, spec, dnnl_forward_training, srcMd, dstMd);
            if (pd == null) {
                handles.close();
                return Optional.empty();
            }
            dnnl_primitive primitive = new dnnl_primitive();
            handles.check(dnnl_primitive_create(primitive, pd), "dnnl_primitive_create");
            handles.own(primitive);
            return Optional.of(new DnnlPool2dPlan(spec, backend, handles, pd, primitive, srcMd, dstMd));
        } catch (RuntimeException e) {
            handles.close();
            throw e;
        }
    }

    private static dnnl_primitive_desc forwardPd(Native handles, DnnlBackend backend, Pool2dSpec spec, int prop,
                                                 dnnl_memory_desc srcMd, dnnl_memory_desc dstMd) {
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        if (!handles.implemented(dnnl_pooling_forward_primitive_desc_create(pd, backend.engine(), prop, algorithm(spec),
                srcMd, dstMd, strides(spec), kernel(spec), new LongPointer(0, 0), padding(spec), padding(spec), null),
                "dnnl_pooling_forward_primitive_desc_create")) {
            return null;
        }
        handles.own(pd);
        return pd;
    }

    private static int algorithm(Pool2dSpec spec) {
        if (spec.kind() == Pool2dSpec.Kind.MAX) {
            return dnnl_pooling_max;
        }
        return spec.countIncludePad() ? dnnl_pooling_avg_include_padding : dnnl_pooling_avg_exclude_padding;
    }

    private static LongPointer strides(Pool2dSpec s) {
        return new LongPointer(s.strideH(), s.strideW());
    }

    private static LongPointer kernel(Pool2dSpec s) {
        return new LongPointer(s.kernelH(), s.kernelW());
    }

    private static LongPointer padding(Pool2dSpec s) {
        return new LongPointer(s.padH(), s.padW());
    }

    @Override
    public Pool2dSpec spec() {
        return spec;
    }

    @Override
    public long workspaceBytes() {
        return workspaceBytes;
    }

    @Override
    public void forward(Tensor x, Tensor y, Tensor ws) {
        Conv2dPlan.check(spec, "x", spec.inputShape(), x);
        Conv2dPlan.check(spec, "y", spec.outputShape(), y);
        backend.enterKernel((double) spec.outputShape().elementCount() * spec.kernelH() * spec.kernelW());
        handles.bind(src, x);
        handles.bind(dst, y);
        args.position(0).arg(DNNL_ARG_SRC).memory(src);
        args.position(1).arg(DNNL_ARG_DST).memory(dst);
        if (ws != null && workspace != null) {
            checkWorkspace(ws);
            handles.bind(workspace, ws);
            args.position(2).arg(DNNL_ARG_WORKSPACE).memory(workspace);
            handles.check(dnnl_primitive_execute(training, backend.stream(), 3, args.position(0)), "dnnl_primitive_execute");
            return;
        }
        if (inference == null) {
            dnnl_primitive_desc pd = forwardPd(handles, backend, spec, dnnl_forward_inference, srcMd, dstMd);
            Checks.state(pd != null, "%s: oneDNN has a training but no inference implementation", spec);
            inference = new dnnl_primitive();
            handles.check(dnnl_primitive_create(inference, pd), "dnnl_primitive_create");
            handles.own(inference);
        }
        handles.check(dnnl_primitive_execute(inference, backend.stream(), 2, args.position(0)), "dnnl_primitive_execute");
    }

    @Override
    public void backward(Tensor dy, Tensor ws, Tensor dx) {
        Conv2dPlan.check(spec, "dy", spec.outputShape(), dy);
        Conv2dPlan.check(spec, "dx", spec.inputShape(), dx);
        if (workspace != null) {
            Checks.argument(ws != null, "%s: backward needs the workspace of the forward pass", spec);
            checkWorkspace(ws);
        }
        if (backward == null) {
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            handles.check(dnnl_pooling_backward_primitive_desc_create(pd, backend.engine(), algorithm(spec), srcMd, dstMd,
                    strides(spec), kernel(spec), new LongPointer(0, 0), padding(spec), padding(spec), trainingPd, null),
                    "dnnl_pooling_backward_primitive_desc_create");
            handles.own(pd);
            backward = new dnnl_primitive();
            handles.check(dnnl_primitive_create(backward, pd), "dnnl_primitive_create");
            handles.own(backward);
        }
        backend.enterKernel((double) spec.outputShape().elementCount() * spec.kernelH() * spec.kernelW());
        handles.bind(dst, dy);
        handles.bind(src, dx);
        int n = 0;
        args.position(n++).arg(DNNL_ARG_DIFF_DST).memory(dst);
        args.position(n++).arg(DNNL_ARG_DIFF_SRC).memory(src);
        if (workspace != null) {
            handles.bind(workspace, ws);
            args.position(n++).arg(DNNL_ARG_WORKSPACE).memory(workspace);
        }
        handles.check(dnnl_primitive_execute(backward, backend.stream(), n, args.position(0)), "dnnl_primitive_execute");
    }

    private void checkWorkspace(Tensor ws) {
        Checks.argument(ws.dtype() == DType.UINT8 && ws.elementCount() >= workspaceBytes && ws.isContiguous(),
                "%s: the workspace must be a contiguous uint8 tensor of %s bytes but is %s", spec, workspaceBytes, ws);
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
