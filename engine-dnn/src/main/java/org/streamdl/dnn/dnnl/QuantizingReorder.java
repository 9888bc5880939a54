package org.streamdl.dnn.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_SCALES;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_scales_mask;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_reorder_primitive_desc_create;

import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;

/**
 * The first step of an int8 layer fed float32: one reorder that writes round(x / scale), saturated,
 * straight into the codes buffer (and layout) the int8 primitive reads; the scale is given per call.
 */
final class QuantizingReorder {
    private final DnnlBackend backend;
    private final Native handles;
    private final dnnl_primitive reorder;
    private final dnnl_memory floats;
    private final dnnl_memory codes;
    private final dnnl_exec_arg_t args = new dnnl_exec_arg_t(3);

    QuantizingReorder(DnnlBackend backend, Native handles, Allocator scratch, dnnl_memory_desc floatsMd,
                      dnnl_memory_desc codesMd) {
        this.backend = backend;
        this.handles = handles;
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        handles.check(dnnl_primitive_attr_create(attr), "dnnl_primitive_attr_create");
        handles.own(attr);
        handles.check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_DST, 0), "dnnl_primitive_attr_set_scales_mask");
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        handles.check(dnnl_reorder_primitive_desc_create(pd, floatsMd, backend.engine(), codesMd, backend.engine(), attr),
                "dnnl_reorder_primitive_desc_create");
        handles.own(pd);
        this.reorder = new dnnl_primitive();
        handles.check(dnnl_primitive_create(reorder, pd), "dnnl_primitive_create");
        handles.own(reorder);
        this.floats = handles.memory(floatsMd, backend.engine());
        this.codes = handles.memory(codesMd, backend.engine());
        handles.bind(codes, scratch.allocate(DType.UINT8, dnnl_memory_desc_get_size(codesMd)));
    }

    /** Quantizes {@code x} with the scale {@code scale} holds; returns the memory of the codes. */
    dnnl_memory run(Tensor x, dnnl_memory scale) {
        handles.bind(floats, x);
        args.position(0).arg(DNNL_ARG_SRC).memory(floats);
        args.position(1).arg(DNNL_ARG_DST).memory(codes);
        args.position(2).arg(DNNL_ARG_ATTR_SCALES | DNNL_ARG_DST).memory(scale);
        handles.check(dnnl_primitive_execute(reorder, backend.stream(), 3, args.position(0)), "dnnl_primitive_execute (quantize)");
        return codes;
    }

    void close() {
        args.close();
    }
}
