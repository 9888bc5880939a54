package org.streamdl.dnn.dnnl;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The two OpenMP calls the JavaCPP dnnl preset does not expose. JavaCPP generates and compiles
 * their JNI glue at build time ({@code libjniOpenMp.so}, linked against the libgomp that dnnl loads
 * first). A build without a C++ compiler has no glue; {@link OpenMpThreads} then reports that.
 */
@Platform(include = "omp.h", link = "gomp@.1")
final class OpenMp {
    static {
        Loader.load(org.bytedeco.dnnl.global.dnnl.class);   // dnnl's libgomp first, so the glue binds to it
        Loader.load();
    }

    private OpenMp() {}

    /** Sets the team size of parallel regions started by the calling thread. */
    static native void omp_set_num_threads(int threads);

    static native int omp_get_max_threads();
}
