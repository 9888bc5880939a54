package org.streamdl.flink.training;

import java.util.Arrays;
import org.apache.flink.api.common.typeinfo.TypeInfo;

/**
 * The new weights of one parameter slice after an update, broadcast to every worker.
 *
 * @param version the weights version these values belong to (the number of updates applied)
 * @param samplesApplied samples counted in all updates up to this version, for the model's provenance
 * @param meanLoss mean training loss of the samples of this update (NaN when it had none)
 * @param last every worker has finished its input; no update follows this one
 */
@TypeInfo(LoopTypes.WeightSliceTypeInfoFactory.class)
public record WeightSlice(long version, int sliceId, long samplesApplied, double meanLoss, boolean last,
                          float[] weights) {
    public WeightSlice {
        if (version < 1 || sliceId < 0 || samplesApplied < 0) {
            throw new IllegalArgumentException("bad weight slice: version " + version + ", slice " + sliceId
                    + ", samples applied " + samplesApplied);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof WeightSlice w && version == w.version && sliceId == w.sliceId
                && samplesApplied == w.samplesApplied && Double.compare(meanLoss, w.meanLoss) == 0 && last == w.last
                && Arrays.equals(weights, w.weights);
    }

    @Override
    public int hashCode() {
        return 31 * Long.hashCode(version) + sliceId;
    }

    @Override
    public String toString() {
        return "WeightSlice{version " + version + ", slice " + sliceId + ", " + samplesApplied + " samples applied"
                + (last ? ", last" : "") + "}";
    }
}
