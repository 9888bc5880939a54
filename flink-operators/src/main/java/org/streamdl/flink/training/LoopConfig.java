package org.streamdl.flink.training;

import java.io.Serializable;

/** The settings every operator of one training loop shares; built and checked by {@link DistributedTraining}. */
record LoopConfig(String loopId, int workers, int slices, int[] sliceKeys, int globalBatchSize, int epochs,
                  int maxStaleness, long maxBatchDelayMillis, long snapshotEverySteps, long snapshotEveryMillis,
                  int threadsPerWorker, String featureName, long seed) implements Serializable {

    /** Worker {@code worker}'s share of the global batch: the remainder goes to the first workers. */
    int localBatchSize(int worker) {
        return globalBatchSize / workers + (worker < globalBatchSize % workers ? 1 : 0);
    }
}
