package org.streamdl.flink.sql;

import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.flink.core.fs.Path;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.data.IdxFile;
import org.streamdl.dnn.layers.Flatten;
import org.streamdl.dnn.layers.Layer;
import org.streamdl.dnn.layers.LayerConfig;
import org.streamdl.dnn.layers.QuantizedConv2d;
import org.streamdl.dnn.layers.QuantizedLinear;
import org.streamdl.dnn.layers.Sequential;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.onnx.OnnxFormatException;
import org.streamdl.dnn.onnx.OnnxImporter;
import org.streamdl.dnn.quantize.Quantizer;
import org.streamdl.flink.inference.ModelChecks;
import org.streamdl.flink.sql.StreamDLModelOptions.Precision;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;
import org.streamdl.tensor.ops.Convert;

/**
 * Loads the model a {@link ModelSpec} names, in its precision: the same code runs when a statement
 * is planned (to refuse what does not fit) and when each parallel instance opens. A problem is an
 * {@link IllegalArgumentException} whose message names the option at fault.
 */
final class ModelLoader {
    private static final int CALIBRATION_BATCH = 256;
    private static final java.util.Set<String> LINEAR_TYPES = java.util.Set.of("Linear", "QuantizedLinear", "Bfloat16Linear");

    private ModelLoader() {}

    /** A loaded model and the version its predictions carry. The caller closes the model. */
    record Loaded(Model model, long version) {}

    /** The model file at {@code path} (StreamDL, or ONNX by its name), as stored, on {@code kernels}. */
    static Loaded read(String path, Kernels kernels) throws IOException {
        Path p = new Path(path);
        boolean onnx = p.getName().toLowerCase(Locale.ROOT).endsWith(".onnx");
        java.nio.file.Path local = localCopy(p);
        try {
            if (onnx) {
                try {
                    return new Loaded(OnnxImporter.importModel(local, kernels), 0);
                } catch (OnnxFormatException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }
            ModelFile.Contents contents = ModelFile.read(local, kernels);
            String trained = contents.provenance().get("training.version");
            try {
                return new Loaded(contents.model(), trained == null ? 0 : Long.parseLong(trained));
            } catch (NumberFormatException e) {
                contents.model().close();
                throw new IOException("provenance training.version is '" + trained + "', not a number", e);
            }
        } finally {
            if (!local.toString().equals(localPath(p))) {
                Files.deleteIfExists(local);
            }
        }
    }

    /** The model of {@code spec} in its precision, on {@code spec.threads()} oneDNN threads. */
    static Loaded load(ModelSpec spec) {
        Loaded stored;
        try {
            stored = read(spec.path(), Kernels.create(spec.threads()));
        } catch (IOException e) {
            throw new IllegalArgumentException("option 'path': model file " + spec.path() + " cannot be read: "
                    + e.getMessage(), e);
        }
        try {
            return new Loaded(inPrecision(stored.model(), spec), stored.version());
        } catch (RuntimeException e) {
            stored.model().close();
            throw e;
        }
    }

    /**
     * One row's feature shape when the model says it: the input width of a first Linear layer
     * (float32, int8 or bfloat16, after a Flatten); else null.
     */
    static long[] featureShapeOf(Model model) {
        if (model.network() instanceof Sequential s) {
            for (Layer layer : s.layers()) {
                LayerConfig config = layer.config();
                if (LINEAR_TYPES.contains(config.type()) && config.attributes().containsKey("in")) {
                    return new long[] {config.longAttribute("in")};
                }
                if (!(layer instanceof Flatten)) {
                    return null;
                }
            }
        }
        return null;
    }

    /** Whether the model already runs int8 layers (a quantized file, or a QDQ ONNX import). */
    static boolean isQuantized(Model model) {
        if (!(model.network() instanceof Sequential s)) {
            return false;
        }
        for (Layer layer : s.layers()) {
            if (layer instanceof QuantizedLinear || layer instanceof QuantizedConv2d) {
                return true;
            }
        }
        return false;
    }

    /** {@code model} converted to the spec's precision; the float model is closed when a new one replaces it. */
    private static Model inPrecision(Model model, ModelSpec spec) {
        Precision precision = spec.precision();
        if (precision == Precision.FP32 || (precision == Precision.INT8 && isQuantized(model))) {
            return model;
        }
        if (isQuantized(model)) {
            throw new IllegalArgumentException("option 'precision': the model in " + spec.path()
                    + " is already int8; use 'int8' or 'fp32' (both run it as stored)");
        }
        if (!(model.network() instanceof Sequential)) {
            throw new IllegalArgumentException("option 'precision': " + precision.name().toLowerCase(Locale.ROOT)
                    + " converts Sequential networks, and " + spec.path() + " holds a " + model.network().config().type()
                    + "; use 'fp32'");
        }
        Model converted;
        if (precision == Precision.BF16) {
            converted = Quantizer.bfloat16(model, Kernels.create(spec.threads()));
        } else {
            if (spec.calibrationPath() == null) {
                throw new IllegalArgumentException("option 'precision': int8 of the float model in " + spec.path()
                        + " needs 'calibration-path' (an IDX file of images), or give a model file already quantized");
            }
            try (Allocator calibration = Allocator.root("calibration", 1L << 30)) {
                List<Tensor> batches = calibrationBatches(spec, calibration);
                converted = Quantizer.quantize(model, batches, Quantizer.Calibration.MAX_ABS, 100,
                        Kernels.create(spec.threads())).model();
            }
        }
        model.close();
        return converted;
    }

    /** The first {@code calibration-samples} images of the calibration file, scaled to [0, 1], in batches. */
    private static List<Tensor> calibrationBatches(ModelSpec spec, Allocator allocator) {
        Path p = new Path(spec.calibrationPath());
        IdxFile idx;
        try {
            java.nio.file.Path local = localCopy(p);
            try {
                idx = IdxFile.read(local);
            } finally {
                if (!local.toString().equals(localPath(p))) {
                    Files.deleteIfExists(local);
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("option 'calibration-path': " + spec.calibrationPath()
                    + " cannot be read: " + e.getMessage(), e);
        }
        int[] dims = idx.dims();
        long perImage = 1;
        for (int i = 1; i < dims.length; i++) {
            perImage *= dims[i];
        }
        long features = ModelSpec.elementCount(spec.featureShape());
        if (dims.length < 2 || perImage != features) {
            throw new IllegalArgumentException("option 'calibration-path': " + spec.calibrationPath() + " holds images of "
                    + java.util.Arrays.toString(java.util.Arrays.copyOfRange(dims, Math.min(1, dims.length), dims.length))
                    + " (" + perImage + " values) but the model takes " + features + " values per row");
        }
        int count = Math.min(dims[0], spec.calibrationSamples());
        byte[] pixels = idx.data();
        List<Tensor> batches = new ArrayList<>();
        for (int start = 0; start < count; start += CALIBRATION_BATCH) {
            int n = Math.min(CALIBRATION_BATCH, count - start);
            float[] values = new float[(int) (n * features)];
            for (int i = 0; i < values.length; i++) {
                values[i] = (pixels[(int) (start * features) + i] & 0xff) / 255f;
            }
            long[] batchDims = new long[spec.featureShape().length + 1];
            batchDims[0] = n;
            System.arraycopy(spec.featureShape(), 0, batchDims, 1, spec.featureShape().length);
            batches.add(Convert.fromFloats(values, Shape.of(batchDims), allocator));
        }
        return batches;
    }

    /** The file itself when it is local, else a temporary copy (the engine's readers take local files). */
    private static java.nio.file.Path localCopy(Path p) throws IOException {
        String local = localPath(p);
        if (local != null) {
            return java.nio.file.Path.of(local);
        }
        String name = p.getName().replaceAll("[^A-Za-z0-9._-]", "_");
        java.nio.file.Path copy = Files.createTempFile("streamdl-", "-" + name);
        Files.write(copy, ModelChecks.readFile(p.toString()));
        return copy;
    }

    private static String localPath(Path p) {
        String scheme = p.toUri().getScheme();
        return scheme == null || scheme.equals("file") ? p.toUri().getPath() : null;
    }
}
