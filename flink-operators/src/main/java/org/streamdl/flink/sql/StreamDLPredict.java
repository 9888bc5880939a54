package org.streamdl.flink.sql;

import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.flink.table.functions.ScalarFunction;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.Model;
import org.streamdl.flink.inference.ModelChecks;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.ops.Convert;

/**
 * A scalar function for SQL without model DDL:
 * {@code CREATE FUNCTION streamdl_predict AS 'org.streamdl.flink.sql.StreamDLPredict'}, then
 * {@code streamdl_predict('file:///models/lenet5.sdlm', pixels, '1,28,28')} gives the predicted
 * class (INT) of an {@code ARRAY<FLOAT>}. The feature shape may be left out when the model starts
 * with a Linear layer. A NULL array gives NULL; an array of the wrong length or with NaN fails the
 * job, naming the problem.
 *
 * <p>Each call scores one row, a forward pass of batch 1 on the task thread: SQL scalar functions
 * see one row at a time. Where rows come faster than a pass takes, {@code ML_PREDICT} with the
 * {@code streamdl} provider batches them and is several times faster (benchmark SQL1).
 * Each parallel instance loads a model once per path and keeps it until the job ends.
 */
public final class StreamDLPredict extends ScalarFunction {
    private static final long serialVersionUID = 1L;

    private transient Map<String, Loaded> models;

    private record Loaded(Model model, long[] featureShape, int features) {}

    /** The class {@code features} gets from the model at {@code path}, whose first layer is Linear. */
    public Integer eval(String path, Float[] features) {
        return eval(path, features, null);
    }

    /** The class {@code features}, one row of {@code featureShape} ('1,28,28'), gets from the model at {@code path}. */
    public Integer eval(String path, Float[] features, String featureShape) {
        if (features == null) {
            return null;
        }
        Loaded m = model(path, featureShape);
        if (features.length != m.features()) {
            throw new IllegalArgumentException("streamdl_predict: the features have " + features.length
                    + " values but the model " + path + " takes " + m.features() + " " + Arrays.toString(m.featureShape()));
        }
        float[] x = new float[features.length];
        for (int i = 0; i < x.length; i++) {
            if (features[i] == null || !Float.isFinite(features[i])) {
                throw new IllegalArgumentException("streamdl_predict: feature " + i + " is " + features[i]
                        + "; the model " + path + " takes finite values");
            }
            x[i] = features[i];
        }
        float[] out;
        try (Allocator row = m.model().allocator().newChild("row")) {
            out = Convert.toFloatArray(m.model().predict(Convert.fromFloats(x, Shape.of(m.featureShape()).withBatch(1), row), row));
        }
        int best = 0;
        for (int j = 1; j < out.length; j++) {
            best = out[j] > out[best] ? j : best;
        }
        return best;
    }

    private Loaded model(String path, String featureShape) {
        if (models == null) {
            models = new HashMap<>();
        }
        Loaded loaded = models.get(path + "|" + featureShape);
        if (loaded != null) {
            return loaded;
        }
        Model model;
        try {
            model = ModelLoader.read(path, Kernels.create(1)).model();
        } catch (IOException e) {
            throw new IllegalArgumentException("streamdl_predict: model file " + path + " cannot be read: " + e.getMessage(), e);
        }
        long[] shape = featureShape != null ? StreamDLModelProviderFactory.parseShape(path, featureShape)
                : ModelLoader.featureShapeOf(model);
        if (shape == null) {
            model.close();
            throw new IllegalArgumentException("streamdl_predict: the model " + path + " does not start with a Linear layer;"
                    + " give one row's shape as the third argument, such as '1,28,28'");
        }
        try {
            ModelChecks.outputWidth(model, shape, "streamdl_predict: the model " + path);
        } catch (IllegalArgumentException e) {
            model.close();
            throw e;
        }
        loaded = new Loaded(model, shape, (int) ModelSpec.elementCount(shape));
        models.put(path + "|" + featureShape, loaded);
        return loaded;
    }

    @Override
    public void close() {
        if (models != null) {
            models.values().forEach(m -> m.model().close());
            models.clear();
        }
    }
}
