package org.streamdl.dnn.layers;

import java.util.ArrayList;
import java.util.List;
import org.streamdl.dnn.Context;
import org.streamdl.dnn.NamedTensor;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Elementwise;
import org.streamdl.tensor.ops.Reduce;

/**
 * a ∘ b for ∘ in +, −, ×, ÷ with broadcasting, where a and b are two inputs, or one input and a
 * constant on either side (ONNX Add/Sub/Mul/Div with an initializer). The constant is a buffer
 * of the layer, saved with the model. Gradients of broadcast operands are summed back to their shape.
 */
public final class Arithmetic implements MultiInputLayer {
    /** The four operations. */
    public enum Op { ADD, SUB, MUL, DIV }

    private final String name;
    private final Op op;
    private final Tensor constant;        // null for two inputs
    private final boolean constantFirst;
    private Tensor left;
    private Tensor right;
    private Shape outputShape;

    private Arithmetic(String name, Op op, Tensor constant, boolean constantFirst) {
        this.name = name;
        this.op = op;
        this.constant = constant;
        this.constantFirst = constantFirst;
    }

    /** The operation on two inputs. */
    public static Arithmetic of(String name, Op op) {
        return new Arithmetic(name, op, null, false);
    }

    /** The operation between the input and {@code constant} (owned by the model), the constant on the left if asked. */
    public static Arithmetic withConstant(String name, Op op, Tensor constant, boolean constantFirst) {
        return new Arithmetic(name, op, constant, constantFirst);
    }

    @Override
    public Tensor forward(List<Tensor> inputs, Context ctx) {
        Checks.argument(inputs.size() == (constant == null ? 2 : 1), "%s: expected %s input(s) but got %s",
                this, constant == null ? 2 : 1, inputs.size());
        Tensor x = inputs.get(0);
        left = constant == null ? x : constantFirst ? constant : x;
        right = constant == null ? inputs.get(1) : constantFirst ? x : constant;
        Allocator step = ctx.step();
        Tensor y = switch (op) {
            case ADD -> Elementwise.add(left, right, step);
            case SUB -> Elementwise.sub(left, right, step);
            case MUL -> Elementwise.mul(left, right, step);
            case DIV -> Elementwise.div(left, right, step);
        };
        outputShape = y.shape();
        return y;
    }

    @Override
    public List<Tensor> backwardAll(Tensor dy, Context ctx) {
        Checks.state(outputShape != null, "%s: backward before forward", this);
        Allocator step = ctx.step();
        Tensor dLeft = switch (op) {
            case ADD, SUB -> dy;
            case MUL -> Elementwise.mul(dy, right, step);
            case DIV -> Elementwise.div(dy, right, step);
        };
        Tensor dRight = switch (op) {
            case ADD -> dy;
            case SUB -> Elementwise.mulScalar(dy, -1, step);
            case MUL -> Elementwise.mul(dy, left, step);
            case DIV -> Elementwise.mulScalar(Elementwise.div(Elementwise.mul(dy, left, step),
                    Elementwise.mul(right, right, step), step), -1, step);
        };
        List<Tensor> grads = new ArrayList<>();
        if (constant == null || !constantFirst) {
            grads.add(reduceTo(dLeft, left.shape(), outputShape, step));
        }
        if (constant == null || constantFirst) {
            grads.add(reduceTo(dRight, right.shape(), outputShape, step));
        }
        return grads;
    }

    /** Sums dy over the axes along which an operand of {@code shape} was broadcast to {@code outputShape}. */
    static Tensor reduceTo(Tensor dy, Shape shape, Shape outputShape, Allocator step) {
        if (shape.equals(outputShape)) {
            return dy;
        }
        int lead = outputShape.rank() - shape.rank();
        List<Integer> axes = new ArrayList<>();
        for (int axis = 0; axis < outputShape.rank(); axis++) {
            if (axis < lead || (shape.dim(axis - lead) == 1 && outputShape.dim(axis) != 1)) {
                axes.add(axis);
            }
        }
        int[] a = axes.stream().mapToInt(Integer::intValue).toArray();
        return Reduce.sum(dy, step, true, a).reshape(shape);
    }

    @Override
    public List<NamedTensor> buffers() {
        return constant == null ? List.of() : List.of(new NamedTensor(name + ".constant", constant));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public LayerConfig config() {
        return LayerConfig.of("Arithmetic", name, "op", op.name(), "constant", constant == null ? "none"
                : constantFirst ? "left" : "right", "shape", constant == null ? "" : Reshape.format(constant.shape().dims()));
    }

    @Override
    public String toString() {
        return name + " (" + op.name().charAt(0) + op.name().substring(1).toLowerCase(java.util.Locale.ROOT)
                + (constant == null ? "" : " constant " + constant.shape()) + ")";
    }
}
