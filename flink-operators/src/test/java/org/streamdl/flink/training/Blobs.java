package org.streamdl.flink.training;

import java.util.ArrayList;
import java.util.List;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.data.InMemoryDataset;
import org.streamdl.dnn.layers.Linear;
import org.streamdl.dnn.layers.Relu;
import org.streamdl.dnn.layers.Sequential;
import org.streamdl.dnn.losses.SoftmaxCrossEntropy;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.optim.Sgd;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Rng;
import org.streamdl.tensor.Shape;

/**
 * A learnable synthetic task for training tests: ten Gaussian clusters in 32 dimensions, sample i
 * fully determined by (seed, i), and a small MLP for it.
 */
public final class Blobs {
    public static final int FEATURES = 32;
    static final int CLASSES = 10;
    private static final long CENTER_SEED = 2024;

    private Blobs() {}

    static Model mlp(Kernels kernels) {
        Allocator allocator = Allocator.root("blobs-mlp", 1L << 30);
        ParameterFactory p = new ParameterFactory(allocator, 7);
        Sequential net = Sequential.of("blobs-mlp",
                new Linear(p, "fc1", FEATURES, 64),
                new Relu("relu1"),
                new Linear(p, "fc2", 64, CLASSES));
        return new Model(net, allocator, kernels);
    }

    public static TrainingRecipe recipe() {
        return TrainingRecipe.of("blobs", Blobs::mlp, SoftmaxCrossEntropy::new, state -> new Sgd(state, 0.05, 0.9));
    }

    public static int label(long seed, long index) {
        return (int) Math.floorMod(index * 7919 + seed, CLASSES);
    }

    static float[] features(long seed, long index) {
        Rng centers = new Rng(CENTER_SEED + label(seed, index));
        Rng noise = new Rng(seed * 1_000_003 + index);
        float[] x = new float[FEATURES];
        for (int i = 0; i < FEATURES; i++) {
            x[i] = (float) (centers.nextGaussian() + 1.2 * noise.nextGaussian());
        }
        return x;
    }

    static Sample sample(long seed, long index) {
        return Sample.builder().key(Long.toString(index)).feature(Sample.DEFAULT_FEATURE,
                TensorValue.ofFloats(features(seed, index), FEATURES)).labelClass(label(seed, index)).build();
    }

    public static List<Sample> samples(long seed, int count) {
        List<Sample> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(sample(seed, i));
        }
        return out;
    }

    static InMemoryDataset dataset(long seed, int count) {
        float[] x = new float[count * FEATURES];
        int[] y = new int[count];
        for (int i = 0; i < count; i++) {
            System.arraycopy(features(seed, i), 0, x, i * FEATURES, FEATURES);
            y[i] = label(seed, i);
        }
        return InMemoryDataset.ofFeatures(x, Shape.of(FEATURES), y);
    }
}
