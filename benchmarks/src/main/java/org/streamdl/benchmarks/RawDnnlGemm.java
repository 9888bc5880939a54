package org.streamdl.benchmarks;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.dnnl_ab;
import static org.bytedeco.dnnl.global.dnnl.dnnl_cpu;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_engine_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_f32;
import static org.bytedeco.dnnl.global.dnnl.dnnl_matmul_primitive_desc_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_create_with_tag;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_desc_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_destroy;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_create;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_default_flags;
import static org.bytedeco.dnnl.global.dnnl.dnnl_stream_destroy;

import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.streamdl.tensor.Tensor;

/**
 * G1's reference point: the same 1024³ matmul through the bare oneDNN C API, on the same buffers
 * and in the same JVM, so the overhead of StreamDL's plan layer shows as a ratio.
 */
final class RawDnnlGemm {
    private RawDnnlGemm() {}

    static double gflops(Tensor a, Tensor b, Tensor c, int timed) {
        int n = (int) a.shape().dim(0);
        dnnl_engine engine = new dnnl_engine();
        dnnl_engine_create(engine, dnnl_cpu, 0);
        dnnl_stream stream = new dnnl_stream();
        dnnl_stream_create(stream, engine, dnnl_stream_default_flags);
        dnnl_memory_desc md = new dnnl_memory_desc();
        dnnl_memory_desc_create_with_tag(md, 2, new LongPointer(n, n), dnnl_f32, dnnl_ab);
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        dnnl_matmul_primitive_desc_create(pd, engine, md, md, null, md, null);
        dnnl_primitive matmul = new dnnl_primitive();
        dnnl_primitive_create(matmul, pd);
        dnnl_memory[] memories = new dnnl_memory[3];
        Tensor[] tensors = {a, b, c};
        int[] ids = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};
        try (dnnl_exec_arg_t args = new dnnl_exec_arg_t(3)) {
            for (int i = 0; i < 3; i++) {
                memories[i] = new dnnl_memory();
                dnnl_memory_create(memories[i], md, engine, new Pointer(tensors[i].buffer()));
                args.position(i).arg(ids[i]).memory(memories[i]);
            }
            args.position(0);
            for (int i = 0; i < 3; i++) {
                dnnl_primitive_execute(matmul, stream, 3, args);
            }
            long start = System.nanoTime();
            for (int i = 0; i < timed; i++) {
                dnnl_primitive_execute(matmul, stream, 3, args);
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            return timed * 2.0 * n * n * n / seconds / 1e9;
        } finally {
            for (dnnl_memory m : memories) {
                if (m != null) {
                    dnnl_memory_destroy(m);
                }
            }
            dnnl_primitive_destroy(matmul);
            dnnl_primitive_desc_destroy(pd);
            dnnl_memory_desc_destroy(md);
            dnnl_stream_destroy(stream);
            dnnl_engine_destroy(engine);
        }
    }
}
