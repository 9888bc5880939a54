package org.streamdl.dnn.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The branch-free ReLU mask keeps a gradient exactly where the output is a positive float. */
class ReluMaskTest {
    @Test
    void keepsTheGradientExactlyWhereTheOutputIsPositive() {
        float[] outputs = {1f, 0f, -0f, -1f, Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE,
            Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, -Float.MIN_VALUE, 3.5e-39f, 7e20f};
        int[] g = new int[outputs.length];
        int[] v = new int[outputs.length];
        for (int i = 0; i < outputs.length; i++) {
            g[i] = Float.floatToRawIntBits(-2.5f - i);
            v[i] = Float.floatToRawIntBits(outputs[i]);
        }
        DnnlConvPoolPlan.maskWherePositive(g, v, outputs.length);
        for (int i = 0; i < outputs.length; i++) {
            float expected = outputs[i] > 0 ? -2.5f - i : 0f;
            assertEquals(Float.floatToRawIntBits(expected), g[i], "output " + outputs[i]);
        }
    }
}
