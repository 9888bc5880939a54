package org.streamdl.tensor.spi;

import java.util.Objects;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;

/**
 * An int8 fully connected product: c = act(aScale · wScale[j] · Σₖ a[i,k] · w[j,k] + bias[j]),
 * then either kept as float32 or requantized to uint8/int8 as round(c / outScale), saturated.
 * a is (m, k) uint8 or int8 activations, w is (n, k) int8 weights (PyTorch's Linear layout) with
 * one scale per output column; zero points are 0 (symmetric quantization, uint8 after a ReLU).
 * Rounding is half to even, as oneDNN's.
 */
public final class QuantizedMatmulSpec {
    private int hash;
    private final long m;
    private final long k;
    private final long n;
    private final DType activation;
    private final DType output;
    private final boolean bias;
    private final boolean relu;
    private final boolean floatInput;
    private final Shape a;         // derived, kept: checked on every call
    private final Shape weights;
    private final Shape c;
    private final Shape columns;

    private QuantizedMatmulSpec(long m, long k, long n, DType activation, DType output, boolean bias, boolean relu,
                                boolean floatInput) {
        Checks.argument(m > 0 && k > 0 && n > 0, "quantized matmul: dimensions must be positive but were m %s, k %s, n %s",
                m, k, n);
        Checks.argument(activation == DType.UINT8 || activation == DType.INT8,
                "quantized matmul: activations are uint8 or int8, not %s", activation);
        Checks.argument(output == DType.FLOAT32 || output == DType.UINT8 || output == DType.INT8,
                "quantized matmul: the output is float32, uint8 or int8, not %s", output);
        this.m = m;
        this.k = k;
        this.n = n;
        this.activation = activation;
        this.output = output;
        this.bias = bias;
        this.relu = relu;
        this.floatInput = floatInput;
        this.a = Shape.of(m, k);
        this.weights = Shape.of(n, k);
        this.c = Shape.of(m, n);
        this.columns = Shape.of(n);
    }

    /** a (m, k) of {@code activation} codes times int8 weights (n, k), float32 output, no bias, no ReLU. */
    public static QuantizedMatmulSpec of(long m, long k, long n, DType activation) {
        return new QuantizedMatmulSpec(m, k, n, activation, DType.FLOAT32, false, false, false);
    }

    public QuantizedMatmulSpec withOutput(DType newOutput) {
        return new QuantizedMatmulSpec(m, k, n, activation, newOutput, bias, relu, floatInput);
    }

    public QuantizedMatmulSpec withBias(boolean withBias) {
        return new QuantizedMatmulSpec(m, k, n, activation, output, withBias, relu, floatInput);
    }

    public QuantizedMatmulSpec withRelu(boolean withRelu) {
        return new QuantizedMatmulSpec(m, k, n, activation, output, bias, withRelu, floatInput);
    }

    /** The same product for a batch of {@code rows}. */
    public QuantizedMatmulSpec withRows(long rows) {
        return new QuantizedMatmulSpec(rows, k, n, activation, output, bias, relu, floatInput);
    }

    /**
     * a arrives as float32 and the plan quantizes it (round(a / aScale), saturated to the
     * activation codes) before the product: one pass over the input instead of a separate one.
     */
    public QuantizedMatmulSpec withFloatInput(boolean quantizeInput) {
        return new QuantizedMatmulSpec(m, k, n, activation, output, bias, relu, quantizeInput);
    }

    public boolean floatInput() {
        return floatInput;
    }

    public long m() {
        return m;
    }

    public long k() {
        return k;
    }

    public long n() {
        return n;
    }

    public DType activation() {
        return activation;
    }

    public DType output() {
        return output;
    }

    public boolean hasBias() {
        return bias;
    }

    public boolean relu() {
        return relu;
    }

    public Shape aShape() {
        return a;
    }

    public Shape weightShape() {
        return weights;
    }

    public Shape cShape() {
        return c;
    }

    /** (n): the shape of the weight scales and the bias. */
    public Shape columnShape() {
        return columns;
    }

    public double ops() {
        return 2.0 * m * n * k;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof QuantizedMatmulSpec s && m == s.m && k == s.k && n == s.n && activation == s.activation
                && output == s.output && bias == s.bias && relu == s.relu && floatInput == s.floatInput;
    }

    @Override
    public int hashCode() {
        int h = hash;
        if (h == 0) {   // specs are looked up in plan caches on every call
            h = Objects.hash(m, k, n, activation, output, bias, relu, floatInput);
            hash = h;
        }
        return h;
    }

    @Override
    public String toString() {
        return Checks.format("int8 matmul (%s, %s) %s·(%s, %s)ᵀ int8 → %s%s%s", m, k,
                floatInput ? "float32→" + activation : activation, n, k, output,
                bias ? " +bias" : "", relu ? " +relu" : "");
    }
}
