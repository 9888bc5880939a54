package org.streamdl.dnn.model;

import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.layers.Conv2d;
import org.streamdl.dnn.layers.Flatten;
import org.streamdl.dnn.layers.Linear;
import org.streamdl.dnn.layers.Pool2d;
import org.streamdl.dnn.layers.Relu;
import org.streamdl.dnn.layers.Sequential;
import org.streamdl.tensor.Allocator;

/**
 * The reference networks of the benchmark workloads, with PyTorch's parameter names so weights
 * trained there load here unchanged.
 */
public final class Models {
    private Models() {}

    /**
     * LeNet-5 for 28×28 grey images: conv(1→6, 5×5, pad 2)-ReLU-maxpool 2 - conv(6→16, 5×5)-ReLU-maxpool 2 -
     * flatten (400) - fc120-ReLU - fc84-ReLU - fc10. Parameters features.0, features.3, classifier.1/3/5.
     */
    public static Model lenet5(long seed, Kernels kernels) {
        Allocator allocator = Model.newMemory("lenet5");
        ParameterFactory p = new ParameterFactory(allocator, seed);
        Sequential net = Sequential.of("lenet5",
                new Conv2d(p, "features.0", 1, 6, 5, 1, 2),
                new Relu("features.1"),
                Pool2d.max("features.2", 2),
                new Conv2d(p, "features.3", 6, 16, 5, 1, 0),
                new Relu("features.4"),
                Pool2d.max("features.5", 2),
                new Flatten("classifier.0"),
                new Linear(p, "classifier.1", 400, 120),
                new Relu("classifier.2"),
                new Linear(p, "classifier.3", 120, 84),
                new Relu("classifier.4"),
                new Linear(p, "classifier.5", 84, 10));
        return new Model(net, allocator, kernels);
    }

    /** The MLP 784-512-ReLU-256-ReLU-10 with parameters fc1, fc2, fc3; input (N, 784) or images, flattened first. */
    public static Model mlp(long seed, Kernels kernels) {
        Allocator allocator = Model.newMemory("mlp");
        ParameterFactory p = new ParameterFactory(allocator, seed);
        Sequential net = Sequential.of("mlp",
                new Flatten("flatten"),
                new Linear(p, "fc1", 784, 512),
                new Relu("relu1"),
                new Linear(p, "fc2", 512, 256),
                new Relu("relu2"),
                new Linear(p, "fc3", 256, 10));
        return new Model(net, allocator, kernels);
    }
}
