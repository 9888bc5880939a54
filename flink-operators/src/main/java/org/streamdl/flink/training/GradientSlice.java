package org.streamdl.flink.training;

import java.util.Arrays;
import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * One worker's contribution to one update of one parameter slice: the sum over its local
 * mini-batch of per-sample gradients (so shards can average by the total sample count), the
 * number of samples behind it (zero for an idle worker), and its summed loss.
 *
 * @param step the update this contributes to: the shard applies it to produce weights version {@code step}
 * @param finished the worker has no more samples after this contribution (bounded input)
 */
@TypeInfo(LoopTypes.GradientSliceTypeInfoFactory.class)
public record GradientSlice(long step, int sliceId, int worker, int sampleCount, double lossSum, boolean finished,
                            float[] gradientSum) {
    public GradientSlice {
        if (step < 1 || sliceId < 0 || worker < 0 || sampleCount < 0) {
            throw new IllegalArgumentException("bad gradient slice: step " + step + ", slice " + sliceId + ", worker "
                    + worker + ", samples " + sampleCount);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GradientSlice g && step == g.step && sliceId == g.sliceId && worker == g.worker
                && sampleCount == g.sampleCount && Double.compare(lossSum, g.lossSum) == 0 && finished == g.finished
                && Arrays.equals(gradientSum, g.gradientSum);
    }

    @Override
    public int hashCode() {
        return 31 * Long.hashCode(step) + 17 * sliceId + worker;
    }

    @Override
    public String toString() {
        return "GradientSlice{step " + step + ", slice " + sliceId + ", worker " + worker + ", " + sampleCount
                + " samples" + (finished ? ", finished" : "") + "}";
    }
}
