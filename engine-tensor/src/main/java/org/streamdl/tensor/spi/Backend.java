package org.streamdl.tensor.spi;

import java.util.Optional;
import org.streamdl.tensor.Allocator;

/**
 * A provider of prepared kernels: it turns a {@code *Spec} into a {@code *Plan} once, and the plan
 * executes many times (oneDNN's primitive descriptors work this way). A backend may decline a spec
 * by returning {@link Optional#empty()}; the caller then plans on the reference backend, which
 * declines nothing. Kernels of later families (convolution, pooling, ...) are added as further
 * {@code planX} methods, each with a reference implementation.
 *
 * <p>A backend owns its threads and native resources and releases them on {@link #close()}; plans
 * are owned by whoever made them and must be closed before their backend.
 */
public interface Backend extends AutoCloseable {

    /** {@code reference} or {@code dnnl}, for logs and benchmark output. */
    String name();

    /** How many threads one plan may use at a time. */
    int threads();

    // Each planX keeps what the plan holds between calls (weights in the layout the kernel prefers,
    // operand buffers, scratch) in a child of `memory` that the plan closes when it closes, so a
    // model's plans are counted and limited in the model's allocator tree.

    Optional<MatmulPlan> planMatmul(MatmulSpec spec, Allocator memory);

    Optional<Conv2dPlan> planConv2d(Conv2dSpec spec, Allocator memory);

    Optional<Pool2dPlan> planPool2d(Pool2dSpec spec, Allocator memory);

    Optional<ConvPoolPlan> planConvPool(ConvPoolSpec spec, Allocator memory);

    Optional<QuantizedMatmulPlan> planQuantizedMatmul(QuantizedMatmulSpec spec, Allocator memory);

    Optional<QuantizedConvPlan> planQuantizedConv(QuantizedConvSpec spec, Allocator memory);

    @Override
    void close();
}
