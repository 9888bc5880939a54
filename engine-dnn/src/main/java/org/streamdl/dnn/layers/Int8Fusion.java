package org.streamdl.dnn.layers;

import java.util.List;
import org.streamdl.tensor.spi.Pool2dSpec;

/**
 * What an int8 layer takes into itself from the layers after it in a chain: a ReLU, then, after a
 * convolution, an unpadded max pooling (it commutes with requantization, so it runs on the codes).
 * {@code end} is the index of the first layer not taken. One rule for the quantizer and the QDQ import.
 */
public record Int8Fusion(boolean relu, Pool2d pool, int end) {

    /** The fusion after {@code chain.get(head)}. */
    public static Int8Fusion after(List<Layer> chain, int head) {
        int at = head + 1;
        boolean relu = at < chain.size() && chain.get(at) instanceof Relu;
        at += relu ? 1 : 0;
        Pool2d pool = chain.get(head) instanceof Conv2d && at < chain.size() && chain.get(at) instanceof Pool2d p
                && p.kind() == Pool2dSpec.Kind.MAX && p.padding() == 0 ? p : null;
        return new Int8Fusion(relu, pool, at + (pool != null ? 1 : 0));
    }

    /** The first index from {@code from} on that is not a shape-only layer (Flatten, Reshape): those carry codes unchanged. */
    public static int skipShapeOnly(List<Layer> chain, int from) {
        int at = from;
        while (at < chain.size() && (chain.get(at) instanceof Flatten || chain.get(at) instanceof Reshape)) {
            at++;
        }
        return at;
    }

    public int poolKernel() {
        return pool == null ? 0 : pool.kernel();
    }

    public int poolStride() {
        return pool == null ? 0 : pool.stride();
    }
}
