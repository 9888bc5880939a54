package org.streamdl.dnn.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.model.Model;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.TensorBytes;

/**
 * The PyTorch reference data in test resources (see its README.md): 256 test images, their labels,
 * trained LeNet-5 and MLP weights, and PyTorch's logits for them.
 */
public final class ReferenceData {
    private static final String ROOT = "/org/streamdl/dnn/reference/";

    private ReferenceData() {}

    public static Tensor tensor(String file, DType dtype, Shape shape, Allocator allocator) {
        try (InputStream in = ReferenceData.class.getResourceAsStream(ROOT + file)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource " + ROOT + file);
            }
            byte[] bytes = in.readAllBytes();
            long expected = shape.elementCount() * dtype.byteSize();
            if (bytes.length != expected) {
                throw new IllegalStateException(file + " holds " + bytes.length + " bytes, expected " + expected);
            }
            return TensorBytes.readRaw(ByteBuffer.wrap(bytes), dtype, shape, allocator);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Tensor images(Allocator allocator) {
        return tensor("images.f32", DType.FLOAT32, Shape.of(256, 1, 28, 28), allocator);
    }

    public static Tensor labels(Allocator allocator) {
        return tensor("labels.i32", DType.INT32, Shape.of(256), allocator);
    }

    /** Loads every parameter of {@code model} from {@code directory}/{name}.f32 (lenet5-weights, mlp-weights). */
    public static void loadWeights(Model model, String directory) {
        try (Allocator scratch = Allocator.root("weights", 64L << 20)) {
            for (Parameter p : model.parameters()) {
                model.load(p.name(), tensor(directory + "/" + p.name() + ".f32", DType.FLOAT32, p.value().shape(), scratch));
            }
        }
    }
}
