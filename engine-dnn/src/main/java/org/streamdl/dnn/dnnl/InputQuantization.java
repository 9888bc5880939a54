package org.streamdl.dnn.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_ATTR_SCALES;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_0;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
import static org.bytedeco.dnnl.global.dnnl.dnnl_binary_div;
import static org.bytedeco.dnnl.global.dnnl.dnnl_binary_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_equal;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_set_data_handle;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_attr_set_scales_mask;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;

import java.util.Arrays;
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

/**
 * The first step of an int8 layer fed float32: writes round(x / scale), saturated, into the codes
 * buffer and layout the int8 primitive reads; the scale is read from {@code scale} at each call.
 *
 * <p>oneDNN's scaled reorder does it in one primitive, but slowly: 40 µs for a 256×784 batch on one
 * thread and no faster on two, where a binary division writing u8 takes 12 µs with the same codes.
 * So a large input is divided by a binary primitive, and when the int8 primitive wants another
 * layout (a blocked or channels-last convolution input) the codes are then reordered as bytes, a
 * quarter of the float traffic. A small input keeps the single reorder: below a few thousand
 * elements the division's parallel start-up costs more than it saves.
 */
final class InputQuantization {
    /** Elements from which the binary division beats the scaled reorder (measured: 1×784 no, 8×784 yes). */
    static final long DIVIDE_FROM = 4096;
    /** Elements from which division plus a byte reorder beats the scaled reorder across layouts (measured at 16-64 LeNet maps). */
    static final long DIVIDE_AND_REORDER_FROM = 32768;

    private final DnnlBackend backend;
    private final Native handles;
    private final dnnl_memory floats;
    private final dnnl_memory codes;
    private final dnnl_primitive first;        // the scaled reorder, or the division
    private final boolean divides;
    private final dnnl_memory scaleMemory;     // 1-D for the reorder's scale, all-ones dims for the division's divisor
    private final dnnl_primitive relayout;     // plain codes → the primitive's layout, or null
    private final dnnl_memory plainCodes;      // the division's output when a relayout follows, else null
    private final dnnl_exec_arg_t args = new dnnl_exec_arg_t(3);
    private final Allocator callMemory;       // the codes buffers, taken per call and freed when the plan's call ends
    private final Shape codesShape;
    private final Shape plainCodesShape;

    /**
     * @param dims      the float32 input's dimensions, stored densely in {@code plainTag}
     * @param codesType dnnl_u8 or dnnl_s8
     * @param codesMd   the layout the int8 primitive reads
     * @param scale     where each call's scale is
     */
    InputQuantization(DnnlBackend backend, Native handles, Allocator callMemory, long[] dims, int plainTag, int codesType,
                      dnnl_memory_desc codesMd, FloatPointer scale) {
        this.backend = backend;
        this.handles = handles;
        this.callMemory = callMemory;
        long elements = Arrays.stream(dims).reduce(1, Math::multiplyExact);
        dnnl_memory_desc floatsMd = handles.desc(dims, dnnl_f32, plainTag);
        dnnl_memory_desc plainCodesMd = handles.desc(dims, codesType, plainTag);
        boolean sameLayout = dnnl_memory_desc_equal(plainCodesMd, codesMd) != 0;
        boolean divide = sameLayout ? elements >= DIVIDE_FROM : elements >= DIVIDE_AND_REORDER_FROM;
        dnnl_primitive division = null;
        dnnl_memory divisor = null;
        if (divide) {
            long[] ones = new long[dims.length];
            Arrays.fill(ones, 1);
            dnnl_memory_desc divisorMd = handles.desc(ones, dnnl_f32, plainTag);
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            if (handles.implemented(dnnl_binary_primitive_desc_create(pd, backend.engine(), dnnl_binary_div, floatsMd,
                    divisorMd, plainCodesMd, null), "dnnl_binary_primitive_desc_create")) {
                handles.own(pd);
                division = new dnnl_primitive();
                handles.check(dnnl_primitive_create(division, pd), "dnnl_primitive_create");
                handles.own(division);
                divisor = handles.memory(divisorMd, backend.engine());
            }
        }
        this.divides = division != null;
        this.floats = handles.memory(floatsMd, backend.engine());
        this.codes = handles.memory(codesMd, backend.engine());
        this.codesShape = Shape.of(dnnl_memory_desc_get_size(codesMd));
        this.plainCodesShape = Shape.of(dnnl_memory_desc_get_size(plainCodesMd));
        if (divides) {
            this.first = division;
            this.scaleMemory = divisor;
            if (sameLayout) {
                this.relayout = null;
                this.plainCodes = null;
            } else {
                this.plainCodes = handles.memory(plainCodesMd, backend.engine());
                this.relayout = handles.reorder(plainCodesMd, codesMd, backend.engine(), null);
            }
        } else {
            dnnl_primitive_attr attr = new dnnl_primitive_attr();
            handles.check(dnnl_primitive_attr_create(attr), "dnnl_primitive_attr_create");
            handles.own(attr);
            handles.check(dnnl_primitive_attr_set_scales_mask(attr, DNNL_ARG_DST, 0), "dnnl_primitive_attr_set_scales_mask");
            this.first = handles.reorder(floatsMd, codesMd, backend.engine(), attr);
            this.scaleMemory = handles.memory(handles.desc(new long[] {1}, dnnl_f32, org.bytedeco.dnnl.global.dnnl.dnnl_a),
                    backend.engine());
            this.relayout = null;
            this.plainCodes = null;
        }
        handles.check(dnnl_memory_set_data_handle(scaleMemory, scale), "dnnl_memory_set_data_handle");
    }

    /** Quantizes {@code x} with the current scale; returns the memory of the codes. */
    dnnl_memory run(Tensor x) {
        handles.bind(floats, x);
        handles.bind(codes, callMemory.allocateUninitialized(DType.UINT8, codesShape));
        if (plainCodes != null) {
            handles.bind(plainCodes, callMemory.allocateUninitialized(DType.UINT8, plainCodesShape));
        }
        if (divides) {
            dnnl_memory out = relayout == null ? codes : plainCodes;
            args.position(0).arg(DNNL_ARG_SRC_0).memory(floats);
            args.position(1).arg(DNNL_ARG_SRC_1).memory(scaleMemory);
            args.position(2).arg(DNNL_ARG_DST).memory(out);
            handles.check(dnnl_primitive_execute(first, backend.stream(), 3, args.position(0)), "dnnl_primitive_execute (quantize)");
            if (relayout != null) {
                args.position(0).arg(DNNL_ARG_SRC).memory(plainCodes);
                args.position(1).arg(DNNL_ARG_DST).memory(codes);
                handles.check(dnnl_primitive_execute(relayout, backend.stream(), 2, args.position(0)), "dnnl_primitive_execute (relayout)");
            }
        } else {
            args.position(0).arg(DNNL_ARG_SRC).memory(floats);
            args.position(1).arg(DNNL_ARG_DST).memory(codes);
            args.position(2).arg(DNNL_ARG_ATTR_SCALES | DNNL_ARG_DST).memory(scaleMemory);
            handles.check(dnnl_primitive_execute(first, backend.stream(), 3, args.position(0)), "dnnl_primitive_execute (quantize)");
        }
        return codes;
    }

    void close() {
        args.close();
    }
}
