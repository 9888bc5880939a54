package org.streamdl.tensor.spi;

import java.util.Optional;

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

    Optional<MatmulPlan> planMatmul(MatmulSpec spec);

    Optional<Conv2dPlan> planConv2d(Conv2dSpec spec);

    Optional<Pool2dPlan> planPool2d(Pool2dSpec spec);

    Optional<ConvPoolPlan> planConvPool(ConvPoolSpec spec);

    Optional<QuantizedMatmulPlan> planQuantizedMatmul(QuantizedMatmulSpec spec);

    Optional<QuantizedConvPlan> planQuantizedConv(QuantizedConvSpec spec);

    @Override
    void close();
}
