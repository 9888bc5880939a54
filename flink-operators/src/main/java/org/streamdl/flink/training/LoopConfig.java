package org.streamdl.flink.training;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * The settings every operator of one training loop shares; built and checked by {@link DistributedTraining}.
 *
 * @param provenance entries every snapshot's model file carries besides the loop's own {@code training.*} ones
 */
record LoopConfig(String loopId, int workers, int slices, int[] sliceKeys, int globalBatchSize, int epochs,
                  int maxStaleness, long maxBatchDelayMillis, long snapshotEverySteps, long snapshotEveryMillis,
                  int threadsPerWorker, String featureName, long seed, Map<String, String> provenance)
        implements Serializable {

    LoopConfig {
        provenance = new TreeMap<>(provenance);   // a serializable copy in a stable order
    }

    /** Worker {@code worker}'s share of the global batch: the remainder goes to the first workers. */
    int localBatchSize(int worker) {
        return globalBatchSize / workers + (worker < globalBatchSize % workers ? 1 : 0);
    }
}
