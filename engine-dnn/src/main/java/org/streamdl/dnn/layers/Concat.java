package org.streamdl.dnn.layers;

import java.util.ArrayList;
import java.util.List;
import org.streamdl.dnn.Context;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/** Concatenates its inputs along one axis (negative counts from the end); backward slices dy apart. */
public final class Concat implements MultiInputLayer {
    private final String name;
    private final int axis;
    private long[] extents;
    private int resolvedAxis;

    public Concat(String name, int axis) {
        this.name = name;
        this.axis = axis;
    }

    @Override
    public Tensor forward(List<Tensor> inputs, Context ctx) {
        Checks.argument(!inputs.isEmpty(), "%s: needs at least one input", name);
        Tensor first = inputs.get(0);
        resolvedAxis = first.shape().axis(axis);
        extents = new long[inputs.size()];
        long total = 0;
        for (int i = 0; i < inputs.size(); i++) {
            Tensor t = inputs.get(i);
            Checks.argument(t.rank() == first.rank() && t.dtype() == first.dtype(),
                    "%s: input %s is %s %s but input 0 is %s %s", name, i, t.dtype(), t.shape(), first.dtype(), first.shape());
            for (int d = 0; d < t.rank(); d++) {
                Checks.argument(d == resolvedAxis || t.shape().dim(d) == first.shape().dim(d),
                        "%s: input %s has shape %s, which differs from %s outside axis %s", name, i, t.shape(),
                        first.shape(), resolvedAxis);
            }
            extents[i] = t.shape().dim(resolvedAxis);
            total += extents[i];
        }
        Tensor out = ctx.step().allocateUninitialized(first.dtype(), first.shape().withDim(resolvedAxis, total));
        long at = 0;
        for (int i = 0; i < inputs.size(); i++) {
            Convert.copy(inputs.get(i), out.narrow(resolvedAxis, at, extents[i]));
            at += extents[i];
        }
        return out;
    }

    @Override
    public List<Tensor> backwardAll(Tensor dy, Context ctx) {
        Checks.state(extents != null, "%s: backward before forward", name);
        List<Tensor> grads = new ArrayList<>();
        long at = 0;
        for (long extent : extents) {
            grads.add(Convert.to(dy.narrow(resolvedAxis, at, extent), dy.dtype(), ctx.step()));
            at += extent;
        }
        return grads;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("Concat", name, "axis", axis);
    }

    @Override
    public String toString() {
        return name + " (Concat axis " + axis + ")";
    }
}
