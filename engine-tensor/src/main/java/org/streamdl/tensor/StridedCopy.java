package org.streamdl.tensor;

import java.nio.ByteBuffer;

/**
 * Copies elements between same-shaped tensors of any layout, converting the dtype by the rules of
 * {@link DType}. Same-dtype contiguous copies are one bulk memory copy.
 */
public final class StridedCopy {
    private StridedCopy() {}

    public static void copy(Tensor source, Tensor destination) {
        Checks.argument(source.shape().equals(destination.shape()),
                "copy: source shape %s differs from destination shape %s", source.shape(), destination.shape());
        ByteBuffer in = source.buffer();
        ByteBuffer out = destination.buffer();
        DType from = source.dtype();
        DType to = destination.dtype();
        if (from == to && source.isContiguous() && destination.isContiguous()) {
            int size = from.byteSize();
            int bytes = (int) (source.elementCount() * size);
            out.put((int) (destination.offset() * size), in, (int) (source.offset() * size), bytes);
            return;
        }
        int inSize = from.byteSize();
        int outSize = to.byteSize();
        StridedCursor c = new StridedCursor(source.shape(), source, destination);
        while (c.next()) {
            long i = c.offset(0);
            long o = c.offset(1);
            long si = c.innerStride(0);
            long so = c.innerStride(1);
            for (long n = c.rowLength(); n > 0; n--, i += si, o += so) {
                if (from == DType.FLOAT32 && to == DType.FLOAT32) {
                    out.putFloat((int) (o * 4), in.getFloat((int) (i * 4)));
                } else {
                    ElementAccess.store(out, to, (int) (o * outSize), ElementAccess.load(in, from, (int) (i * inSize)));
                }
            }
        }
    }
}
