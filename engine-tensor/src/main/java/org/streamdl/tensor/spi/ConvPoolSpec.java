package org.streamdl.tensor.spi;

import java.util.Objects;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Shape;

/**
 * A convolution (with its fused ReLU, if any) followed by pooling without padding: the block of
 * most image networks (LeNet-5's conv-ReLU-maxpool twice). Planned as one unit so a backend can keep
 * the convolution's output, the largest tensor of the block, in its own preferred layout between
 * the two primitives instead of writing it out and reading it back.
 */
public final class ConvPoolSpec {
    private int hash;
    private final Conv2dSpec conv;
    private final Pool2dSpec pool;

    private ConvPoolSpec(Conv2dSpec conv, Pool2dSpec pool) {
        Checks.argument(pool.inputShape().equals(conv.outputShape()),
                "conv-pool: the pooling input %s must be the convolution output %s", pool.inputShape(), conv.outputShape());
        Checks.argument(pool.padH() == 0 && pool.padW() == 0, "conv-pool: fused pooling takes no padding, got %s", pool);
        this.conv = conv;
        this.pool = pool;
    }

    public static ConvPoolSpec of(Conv2dSpec conv, Pool2dSpec.Kind kind, long kernel, long stride) {
        return new ConvPoolSpec(conv, Pool2dSpec.of(kind, conv.outputShape(), kernel, kernel).withStride(stride, stride).withDType(conv.dtype()));
    }

    public Conv2dSpec conv() {
        return conv;
    }

    public Pool2dSpec pool() {
        return pool;
    }

    public Shape inputShape() {
        return conv.inputShape();
    }

    public Shape outputShape() {
        return pool.outputShape();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ConvPoolSpec s && conv.equals(s.conv) && pool.equals(s.pool);
    }

    @Override
    public int hashCode() {
        int h = hash;
        if (h == 0) {   // specs are looked up in plan caches on every call
            h = Objects.hash(conv, pool);
            hash = h;
        }
        return h;
    }

    @Override
    public String toString() {
        return conv + " then " + pool;
    }
}
