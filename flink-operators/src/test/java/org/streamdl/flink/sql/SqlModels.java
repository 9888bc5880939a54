package org.streamdl.flink.sql;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.layers.Linear;
import org.streamdl.dnn.layers.Relu;
import org.streamdl.dnn.layers.Sequential;
import org.streamdl.dnn.layers.Softmax;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.model.Models;
import org.streamdl.tensor.Allocator;

/** Small model files for the SQL tests, written with fixed seeds. */
final class SqlModels {
    /** The Fashion-MNIST slice in the test resources (12,000 training, 5,000 test images). */
    static final Path FASHION_MNIST = Path.of("src/test/resources/fashion-mnist-slice");

    private SqlModels() {}

    /** LeNet-5 with random weights (seed 5), version 7: takes (1, 28, 28), gives 10 logits. */
    static Path lenet5(Path dir) throws IOException {
        Path file = dir.resolve("lenet5.sdlm");
        try (Model m = Models.lenet5(5, Kernels.create(1))) {
            ModelFile.write(file, m, Map.of("training.version", "7"));
        }
        return file;
    }

    /** A tabular model 4-8-3 (seed 3): starts with a Linear layer, so its feature shape (4) is known. */
    static Path tabular(Path dir, boolean softmax) throws IOException {
        Path file = dir.resolve(softmax ? "tabular-softmax.sdlm" : "tabular.sdlm");
        Allocator allocator = Allocator.root("tabular", 1L << 20);
        ParameterFactory p = new ParameterFactory(allocator, 3);
        Sequential net = softmax
                ? Sequential.of("tabular", new Linear(p, "fc1", 4, 8), new Relu("relu"), new Linear(p, "fc2", 8, 3),
                        Softmax.softmax("probabilities"))
                : Sequential.of("tabular", new Linear(p, "fc1", 4, 8), new Relu("relu"), new Linear(p, "fc2", 8, 3));
        try (Model m = new Model(net, allocator, Kernels.create(1))) {
            ModelFile.write(file, m, Map.of());
        }
        return file;
    }
}
