package org.streamdl.dnn.model;

import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * The direct memory a model's allocator tree holds, in the parts that size a TaskManager's task
 * off-heap memory (docs/operations.md): its weights (and optimizer state), its plans (prepared
 * kernels with weights in the layouts they prefer), the largest step's activations, and the freed
 * buffers its pool keeps.
 */
public record MemoryRequirement(String model, long weightsBytes, long plansBytes, long activationsBytes,
                                long pooledBytes) {

    public long totalBytes() {
        return weightsBytes + plansBytes + activationsBytes + pooledBytes;
    }

    /** What {@code model} holds now; its activations are the peak since {@link Allocator#resetPeakBytes()}. */
    public static MemoryRequirement of(Model model) {
        Allocator root = model.allocator();
        long used = root.usedBytes();
        long plans = model.kernels().memory().usedBytes();
        return new MemoryRequirement(model.network().name(), used - plans, plans,
                Math.max(0, root.peakBytes() - used), root.pooledBytes());
    }

    /**
     * Runs inference once at every batch size a scorer of up to {@code maxBatchSize} samples of
     * {@code sampleShape} uses ({@link Model#inferenceBatchSize}), then measures: what the model
     * holds in steady state. Builds every plan on the way, so the first batches of each size pay none.
     */
    public static MemoryRequirement measureInference(Model model, Shape sampleShape, int maxBatchSize) {
        Checks.argument(maxBatchSize >= 1, "maxBatchSize must be >= 1 but was %s", maxBatchSize);
        Allocator root = model.allocator();
        root.resetPeakBytes();
        long last = 0;
        try (Allocator inputs = root.newChild("memory-requirement")) {
            for (long rows = 1; rows <= maxBatchSize; rows++) {
                long size = Model.inferenceBatchSize(rows);
                if (size == last) {
                    continue;
                }
                last = size;
                Tensor zeros = inputs.allocate(DType.FLOAT32, sampleShape.withBatch(size));
                model.predict(zeros, inputs);
                inputs.freeAll();
            }
        }
        return of(model);
    }

    /**
     * {@code lenet5 holds 12.3 MiB of direct memory: weights 0.5 MiB, plans 1.1 MiB, activations 6.0 MiB,
     * pooled 4.7 MiB}.
     */
    public String describe() {
        return Checks.format("%s holds %s of direct memory: weights %s, plans %s, activations %s, pooled %s", model,
                Allocator.bytesToString(totalBytes()), Allocator.bytesToString(weightsBytes),
                Allocator.bytesToString(plansBytes), Allocator.bytesToString(activationsBytes),
                Allocator.bytesToString(pooledBytes));
    }
}
