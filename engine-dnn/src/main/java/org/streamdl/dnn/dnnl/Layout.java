package org.streamdl.dnn.dnnl;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_equal;
import static org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size;
import static org.bytedeco.dnnl.global.dnnl.dnnl_primitive_execute;

import java.nio.ByteBuffer;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc;
import org.bytedeco.dnnl.dnnl_primitive;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * One operand of a primitive whose preferred memory layout (chosen by oneDNN from
 * {@code format_tag_any}, often channel-blocked) may differ from the plain layout of our tensors.
 * When they differ, the operand gets a buffer in the preferred layout and reorder primitives to
 * and from it; when they match, tensors are bound directly and nothing is copied.
 *
 * <p>Where the buffer lives: an activation's copy is needed only during one call, so by default the
 * buffer is taken from the plan's per-call allocator at each use and given back when the plan's call
 * ends (its pool serves the next call); a plan of every batch size then holds no activation memory of
 * its own. Weights, whose copy is reused across calls, keep theirs ({@link #persistent}).
 */
final class Layout {
    private final DnnlBackend backend;
    private final Native handles;
    private final dnnl_memory user;
    private final dnnl_memory internal;     // null when the layouts match
    private final Allocator callMemory;     // where a per-call buffer is taken from; null when persistent
    private final Shape bufferShape;
    private Tensor buffer;
    private final dnnl_primitive toInternal;
    private final dnnl_primitive toUser;
    private final dnnl_exec_arg_t args = new dnnl_exec_arg_t(2);
    static final long SNAPSHOT_LIMIT = 16 << 20;
    static final int RESNAPSHOT_EVERY = 16;
    private long changedCalls;            // calls that found the bytes changed (or no snapshot yet)
    private ByteBuffer snapshot;          // the user bytes behind the internal copy, when valid
    private boolean snapshotValid;
    private Tensor immutableFrom;         // the tensor behind the internal copy, for inputOfImmutable

    /** An operand whose buffer, when it needs one, comes from {@code callMemory} for the length of one call. */
    Layout(DnnlBackend backend, Native handles, Allocator callMemory, dnnl_memory_desc userMd, dnnl_memory_desc preferred,
           boolean input, boolean output) {
        this(backend, handles, callMemory, null, userMd, preferred, input, output);
    }

    /** An input (weights) whose copy in the preferred layout is kept in {@code planMemory} across calls. */
    static Layout persistent(DnnlBackend backend, Native handles, Allocator planMemory, dnnl_memory_desc userMd,
                             dnnl_memory_desc preferred) {
        return new Layout(backend, handles, null, planMemory, userMd, preferred, true, false);
    }

    private Layout(DnnlBackend backend, Native handles, Allocator callMemory, Allocator planMemory,
                   dnnl_memory_desc userMd, dnnl_memory_desc preferred, boolean input, boolean output) {
        this.backend = backend;
        this.handles = handles;
        this.callMemory = callMemory;
        this.user = handles.memory(userMd, backend.engine());
        if (dnnl_memory_desc_equal(userMd, preferred) != 0) {
            this.internal = null;
            this.bufferShape = null;
            this.toInternal = null;
            this.toUser = null;
            return;
        }
        this.internal = handles.memory(preferred, backend.engine());
        this.bufferShape = Shape.of(dnnl_memory_desc_get_size(preferred));
        if (planMemory != null) {
            this.buffer = planMemory.allocate(DType.UINT8, bufferShape);
            handles.bind(internal, buffer);
        }
        this.toInternal = input ? handles.reorder(userMd, preferred, backend.engine(), null) : null;
        this.toUser = output ? handles.reorder(preferred, userMd, backend.engine(), null) : null;
    }

    /** Binds a fresh per-call buffer; it is freed with the rest of the call's memory when the call ends. */
    private void takeCallBuffer() {
        if (callMemory != null) {
            buffer = callMemory.allocateUninitialized(DType.UINT8, bufferShape);
            handles.bind(internal, buffer);
        }
    }

    boolean reorders() {
        return internal != null;
    }

    /** The memory the primitive reads: {@code t} itself, or its copy in the preferred layout. */
    dnnl_memory input(Tensor t) {
        snapshotValid = false;
        immutableFrom = null;
        return reorderIn(t);
    }

    private dnnl_memory reorderIn(Tensor t) {
        handles.bind(user, t);
        if (internal == null) {
            return user;
        }
        takeCallBuffer();
        run(toInternal, user, internal);
        return internal;
    }

    /**
     * As {@link #input}, but skips the reorder when {@code t} holds the bytes of the last snapshot:
     * weights at inference are reordered once, not per call. Comparing is a vectorized memory
     * compare, far cheaper than a reorder primitive (and weights that training changes differ in
     * their first bytes). While the bytes keep changing, the snapshot is retaken only every
     * {@link #RESNAPSHOT_EVERY} calls, so training does not pay a copy per step; inference after
     * training is caught within that many calls. Above {@link #SNAPSHOT_LIMIT} bytes every call
     * reorders.
     */
    dnnl_memory inputUnlessUnchanged(Tensor t) {
        Checks.state(callMemory == null || internal == null, "only a persistent layout keeps a copy across calls");
        long bytes = t.elementCount() * t.dtype().byteSize();
        if (internal == null || bytes > SNAPSHOT_LIMIT) {
            return input(t);
        }
        int from = (int) (t.offset() * t.dtype().byteSize());
        ByteBuffer now = t.buffer().slice(from, (int) bytes);
        if (snapshotValid && snapshot.equals(now)) {
            return internal;
        }
        dnnl_memory m = reorderIn(t);
        if (changedCalls++ % RESNAPSHOT_EVERY == 0) {
            if (snapshot == null) {
                snapshot = ByteBuffer.allocate((int) bytes);
            }
            snapshot.clear();
            snapshot.put(now).flip();
            snapshotValid = true;
        } else {
            snapshotValid = false;   // the internal copy no longer matches the snapshot
        }
        return m;
    }

    /**
     * As {@link #input}, for a tensor whose values never change (quantized weights): it is
     * reordered the first time it is passed and read from the copy while the same live tensor comes
     * back, so another tensor is the way to use other values.
     */
    dnnl_memory inputOfImmutable(Tensor t) {
        Checks.state(callMemory == null || internal == null, "only a persistent layout keeps a copy across calls");
        if (t == immutableFrom && t.isLive()) {
            return internal == null ? user : internal;
        }
        dnnl_memory m = input(t);
        immutableFrom = t;
        return m;
    }

    /** The memory the primitive writes; call {@link #finishOutput} after it ran. */
    dnnl_memory output(Tensor t) {
        handles.bind(user, t);
        if (internal == null) {
            return user;
        }
        takeCallBuffer();
        return internal;
    }

    void finishOutput() {
        if (internal != null) {
            run(toUser, internal, user);
        }
    }

    private void run(dnnl_primitive reorder, dnnl_memory from, dnnl_memory to) {
        args.position(0).arg(DNNL_ARG_SRC).memory(from);
        args.position(1).arg(DNNL_ARG_DST).memory(to);
        handles.check(dnnl_primitive_execute(reorder, backend.stream(), 2, args.position(0)), "dnnl_primitive_execute (reorder)");
    }

    void close() {
        args.close();
    }
}
