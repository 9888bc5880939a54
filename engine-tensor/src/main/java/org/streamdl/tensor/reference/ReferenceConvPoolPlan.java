package org.streamdl.tensor.reference;

import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.spi.Conv2dPlan;
import org.streamdl.tensor.spi.ConvPoolPlan;
import org.streamdl.tensor.spi.Pool2dPlan;
import org.streamdl.tensor.spi.ConvPoolSpec;

/**
 * The block as its two reference kernels in sequence; the workspace holds the convolution output
 * (float32, NCHW) followed by the pooling positions.
 */
final class ReferenceConvPoolPlan implements ConvPoolPlan {
    private final ConvPoolSpec spec;
    private final Conv2dPlan conv;
    private final Pool2dPlan pool;
    private final DType dtype;
    private final long convBytes;
    private final Allocator scratch;   // the convolution output between the two kernels, freed after each call

    ReferenceConvPoolPlan(ConvPoolSpec spec, Conv2dPlan conv, Pool2dPlan pool, Allocator memory) {
        this.spec = spec;
        this.scratch = memory.newChild("reference " + spec);
        this.conv = conv;
        this.pool = pool;
        this.dtype = spec.conv().dtype();
        this.convBytes = (spec.conv().outputShape().elementCount() * dtype.byteSize() + 63) / 64 * 64;
    }

    @Override
    public ConvPoolSpec spec() {
        return spec;
    }

    @Override
    public long workspaceBytes() {
        return convBytes + pool.workspaceBytes();
    }

    private Tensor convOutput(Tensor workspace) {
        Checks.argument(workspace.dtype() == DType.UINT8 && workspace.elementCount() >= workspaceBytes(),
                "%s: the workspace must be a uint8 tensor of %s bytes but is %s", spec, workspaceBytes(), workspace);
        return workspace.narrow(0, 0, spec.conv().outputShape().elementCount() * dtype.byteSize()).viewAs(dtype, spec.conv().outputShape());
    }

    private Tensor poolWorkspace(Tensor workspace) {
        return pool.workspaceBytes() == 0 ? null : workspace.narrow(0, convBytes, pool.workspaceBytes());
    }

    @Override
    public void forward(Tensor x, Tensor w, Tensor b, Tensor y, Tensor workspace) {
        if (workspace == null) {
            try {
                Tensor c = scratch.allocateUninitialized(dtype, spec.conv().outputShape());
                conv.forward(x, w, b, c);
                pool.forward(c, y, null);
            } finally {
                scratch.freeAll();
            }
            return;
        }
        Tensor c = convOutput(workspace);
        conv.forward(x, w, b, c);
        pool.forward(c, y, poolWorkspace(workspace));
    }

    @Override
    public void backward(Tensor x, Tensor w, Tensor y, Tensor dy, Tensor workspace, Tensor dx, Tensor dw, Tensor db) {
        Checks.argument(workspace != null, "%s: backward needs the workspace of the forward pass", spec);
        Tensor c = convOutput(workspace);
        try {
            Tensor dc = scratch.allocateUninitialized(dtype, spec.conv().outputShape());
            pool.backward(dy, poolWorkspace(workspace), dc);
            if (spec.conv().relu()) {
                java.nio.ByteBuffer g = dc.buffer();
                java.nio.ByteBuffer v = c.buffer();
                int size = dtype.byteSize();
                int base = (int) c.offset() * size;
                for (int i = 0; i < dc.elementCount(); i++) {
                    if (!(org.streamdl.tensor.ElementAccess.load(v, dtype, base + i * size) > 0)) {
                        org.streamdl.tensor.ElementAccess.store(g, dtype, i * size, 0);
                    }
                }
            }
            conv.backwardWeights(x, dc, dw, db);
            if (dx != null) {
                conv.backwardData(dc, w, dx);
            }
        } finally {
            scratch.freeAll();
        }
    }

    @Override
    public void close() {
        conv.close();
        pool.close();
        scratch.close();
    }
}
