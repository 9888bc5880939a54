package org.streamdl.dnn.dnnl;

import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_create_with_strides;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_create_with_tag;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_set_data_handle;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_success;
import static org.bytedeco.dnnl.global.dnnl.dnnl_unimplemented;

import java.util.ArrayDeque;
import java.util.Deque;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.javacpp.LongPointer;
import org.streamdl.tensor.Tensor;

/**
 * The native objects of one plan, destroyed together and in reverse order of creation by
 * {@link #close()}: nothing is left to the garbage collector.
 */
final class Native implements AutoCloseable {
    private final Deque<Runnable> destroyers = new ArrayDeque<>();
    private final Address address = new Address();
    private final Object what;

    Native(Object what) {
        this.what = what;
    }

    void check(int status, String call) {
        if (status != dnnl_success) {
            throw new DnnlException(status, call, what);
        }
    }

    /** Like {@link #check}, but {@code unimplemented} answers false so the caller can decline the spec. */
    boolean implemented(int status, String call) {
        if (status == dnnl_unimplemented) {
            return false;
        }
        check(status, call);
        return true;
    }

    dnnl_memory_desc desc(long[] dims, int dataType, int formatTag) {
        dnnl_memory_desc md = new dnnl_memory_desc();
        check(dnnl_memory_desc_create_with_tag(md, dims.length, new LongPointer(dims), dataType, formatTag),
                "dnnl_memory_desc_create_with_tag");
        destroyers.push(() -> dnnl_memory_desc_destroy(md));
        return md;
    }

    dnnl_memory_desc stridedDesc(long[] dims, int dataType, long[] strides) {
        dnnl_memory_desc md = new dnnl_memory_desc();
        check(dnnl_memory_desc_create_with_strides(md, dims.length, new LongPointer(dims), dataType, new LongPointer(strides)),
                "dnnl_memory_desc_create_with_strides");
        destroyers.push(() -> dnnl_memory_desc_destroy(md));
        return md;
    }

    /** A memory object without data; {@link #bind} points it at a tensor before each execution. */
    dnnl_memory memory(dnnl_memory_desc md, dnnl_engine engine) {
        dnnl_memory mem = new dnnl_memory();
        check(dnnl_memory_create(mem, md, engine, null), "dnnl_memory_create");
        destroyers.push(() -> dnnl_memory_destroy(mem));
        return mem;
    }

    /** A reorder primitive from {@code from} to {@code to} (with {@code attr}, or none when null), owned here. */
    dnnl_primitive reorder(dnnl_memory_desc from, dnnl_memory_desc to, dnnl_engine engine, dnnl_primitive_attr attr) {
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(org.bytedeco.dnnl.global.dnnl.dnnl_reorder_primitive_desc_create(pd, from, engine, to, engine, attr),
                "dnnl_reorder_primitive_desc_create");
        own(pd);
        dnnl_primitive p = new dnnl_primitive();
        check(org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create(p, pd), "dnnl_primitive_create");
        own(p);
        return p;
    }

    void own(dnnl_primitive_desc pd) {
        destroyers.push(() -> dnnl_primitive_desc_destroy(pd));
    }

    void own(dnnl_primitive p) {
        destroyers.push(() -> dnnl_primitive_destroy(p));
    }

    void own(dnnl_primitive_attr attr) {
        destroyers.push(() -> dnnl_primitive_attr_destroy(attr));
    }

    /** A primitive attribute with the given post-ops (eltwise ReLU, sum with a scale), or null when none are asked. */
    dnnl_primitive_attr attr(boolean relu, float sumScale, boolean srcScale) {
        if (!relu && sumScale == 0 && !srcScale) {
            return null;
        }
        dnnl_primitive_attr attr = new dnnl_primitive_attr();
        check(org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_create(attr), "dnnl_primitive_attr_create");
        own(attr);
        if (relu || sumScale != 0) {
            org.bytedeco.dnnl.dnnl_post_ops ops = new org.bytedeco.dnnl.dnnl_post_ops();
            check(org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_create(ops), "dnnl_post_ops_create");
            try {
                if (sumScale != 0) {
                    check(org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_sum(ops, sumScale, 0,
                            org.bytedeco.dnnl.global.dnnl.dnnl_data_type_undef), "dnnl_post_ops_append_sum");
                }
                if (relu) {
                    check(org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_append_eltwise(ops,
                            org.bytedeco.dnnl.global.dnnl.dnnl_eltwise_relu, 0f, 0f), "dnnl_post_ops_append_eltwise");
                }
                check(org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_post_ops(attr, ops), "dnnl_primitive_attr_set_post_ops");
            } finally {
                org.bytedeco.dnnl.global.dnnl.dnnl_post_ops_destroy(ops);   // the attribute keeps its own copy
            }
        }
        if (srcScale) {
            check(org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_scales_mask(attr,
                    org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC, 0), "dnnl_primitive_attr_set_scales_mask");
        }
        return attr;
    }

    /** Native memory of {@code count} floats, freed with this object. */
    org.bytedeco.javacpp.FloatPointer floats(long count) {
        org.bytedeco.javacpp.FloatPointer p = new org.bytedeco.javacpp.FloatPointer(count);
        destroyers.push(p::close);
        return p;
    }

    /** Points {@code mem} at the first element of {@code t}'s storage: no copy. */
    void bind(dnnl_memory mem, Tensor t) {
        long at = Address.of(t.buffer()) + t.offset() * t.dtype().byteSize();
        check(dnnl_memory_set_data_handle(mem, address.at(at)), "dnnl_memory_set_data_handle");
    }

    @Override
    public void close() {
        while (!destroyers.isEmpty()) {
            destroyers.pop().run();
        }
    }
}
