package org.streamdl.flink.sql;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.DecimalData;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.functions.FunctionContext;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.model.Model;
import org.streamdl.dnn.model.ModelFile;
import org.streamdl.dnn.onnx.OnnxImporter;
import org.streamdl.flink.sql.StreamDLModelOptions.InvalidRows;
import org.streamdl.flink.sql.StreamDLModelOptions.Precision;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.ops.Convert;

/**
 * The sync function on every input layout and output column: the same features as an
 * {@code ARRAY<FLOAT>}, an {@code ARRAY<DOUBLE>}, little-endian {@code BYTES} or numeric columns get
 * the model's own answer, and each output column holds what its name says.
 */
class StreamDLPredictFunctionTest {
    private static final float[] FEATURES = {0.25f, -1.5f, 3f, 0.75f};

    @TempDir
    Path dir;

    private static ResolvedSchema schema(Column... columns) {
        return ResolvedSchema.of(columns);
    }

    private static ModelSpec spec(Path model, long[] shape, ResolvedSchema input, ResolvedSchema output,
                                  OutputLayout.Outputs outputs) {
        int features = (int) ModelSpec.elementCount(shape);
        return new ModelSpec("m", model.toUri().toString(), Precision.FP32, null, 1, 1, 1, 0, shape, InvalidRows.FAIL,
                InputLayout.of(input, "m", features), OutputLayout.of(output, "m", outputs));
    }

    private static RowData predict(ModelSpec spec, RowData row) throws Exception {
        StreamDLPredictFunction f = new StreamDLPredictFunction(spec);
        f.open(new FunctionContext(null));
        try {
            return f.predict(row).iterator().next();
        } finally {
            f.close();
        }
    }

    /** What the model file itself answers for {@code features} of {@code shape}. */
    private static float[] modelAnswer(Model model, float[] features, long... shape) {
        try (Allocator a = Allocator.root("expected", 1L << 24)) {
            return Convert.toFloatArray(model.predict(Convert.fromFloats(features, Shape.of(shape), a), a));
        }
    }

    @Test
    void everyInputLayoutGivesTheModelsAnswerAndEveryOutputColumnItsValue() throws Exception {
        Path file = SqlModels.tabular(dir, false);
        float[] logits;
        try (Model model = ModelFile.read(file, Kernels.create(1)).model()) {
            logits = modelAnswer(model, FEATURES, 1, 4);
        }
        ResolvedSchema output = schema(Column.physical("logits", DataTypes.ARRAY(DataTypes.FLOAT())),
                Column.physical("class", DataTypes.BIGINT()), Column.physical("probabilities", DataTypes.ARRAY(DataTypes.DOUBLE())),
                Column.physical("score", DataTypes.FLOAT()), Column.physical("model_version", DataTypes.BIGINT()));
        long[] shape = {4};

        ByteBuffer bytes = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : FEATURES) {
            bytes.putFloat(f);
        }
        double[] asDoubles = new double[4];
        for (int i = 0; i < 4; i++) {
            asDoubles[i] = FEATURES[i];
        }
        RowData[] answers = {
            predict(spec(file, shape, schema(Column.physical("x", DataTypes.ARRAY(DataTypes.FLOAT()))), output,
                    OutputLayout.Outputs.LOGITS), GenericRowData.of(new GenericArrayData(FEATURES))),
            predict(spec(file, shape, schema(Column.physical("x", DataTypes.ARRAY(DataTypes.DOUBLE()))), output,
                    OutputLayout.Outputs.LOGITS), GenericRowData.of(new GenericArrayData(asDoubles))),
            predict(spec(file, shape, schema(Column.physical("x", DataTypes.BYTES())), output, OutputLayout.Outputs.LOGITS),
                    GenericRowData.of((Object) bytes.array())),
            predict(spec(file, shape, schema(Column.physical("a", DataTypes.DOUBLE()), Column.physical("b", DataTypes.FLOAT()),
                    Column.physical("c", DataTypes.INT()), Column.physical("d", DataTypes.DECIMAL(10, 2))), output,
                    OutputLayout.Outputs.LOGITS), GenericRowData.of(0.25, -1.5f, 3,
                    DecimalData.fromBigDecimal(new BigDecimal("0.75"), 10, 2))),
        };
        int best = 0;
        for (int j = 1; j < logits.length; j++) {
            best = logits[j] > logits[best] ? j : best;
        }
        double sum = 0;
        for (float l : logits) {
            sum += Math.exp(l);
        }
        for (RowData got : answers) {
            assertArrayEquals(logits, got.getArray(0).toFloatArray(), 1e-6f);
            assertEquals(best, got.getLong(1));
            double[] p = got.getArray(2).toDoubleArray();
            for (int j = 0; j < logits.length; j++) {
                assertEquals(Math.exp(logits[j]) / sum, p[j], 1e-6, "probability " + j);
            }
            assertEquals(p[best], got.getFloat(3), 1e-6);
            assertEquals(0, got.getLong(4), "a file without training.version");
        }
    }

    @Test
    void aNetworkEndingInSoftmaxGivesItsOutputAsProbabilities() throws Exception {
        Path file = SqlModels.tabular(dir, true);
        float[] probabilities;
        try (Model model = ModelFile.read(file, Kernels.create(1)).model()) {
            probabilities = modelAnswer(model, FEATURES, 1, 4);
        }
        RowData got = predict(spec(file, new long[] {4}, schema(Column.physical("x", DataTypes.ARRAY(DataTypes.FLOAT()))),
                schema(Column.physical("probabilities", DataTypes.ARRAY(DataTypes.FLOAT()))),
                OutputLayout.Outputs.PROBABILITIES), GenericRowData.of(new GenericArrayData(FEATURES)));
        assertArrayEquals(probabilities, got.getArray(0).toFloatArray(), 1e-6f);
    }

    @Test
    void anOnnxFileGivesTheImportedModelsAnswer() throws Exception {
        Path onnx = Path.of(StreamDLPredictFunctionTest.class.getResource("/onnx/lenet5.onnx").toURI());
        float[] image = new float[784];
        for (int i = 0; i < image.length; i++) {
            image[i] = (i % 29) / 28f;
        }
        float[] logits;
        try (Model model = OnnxImporter.importModel(onnx, Kernels.create(1))) {
            logits = modelAnswer(model, image, 1, 1, 28, 28);
        }
        RowData got = predict(spec(onnx, new long[] {1, 28, 28}, schema(Column.physical("pixels",
                DataTypes.ARRAY(DataTypes.FLOAT()))), schema(Column.physical("logits", DataTypes.ARRAY(DataTypes.FLOAT())),
                Column.physical("label", DataTypes.INT())), OutputLayout.Outputs.LOGITS),
                GenericRowData.of(new GenericArrayData(image)));
        assertArrayEquals(logits, got.getArray(0).toFloatArray(), 1e-5f);
        int best = 0;
        for (int j = 1; j < logits.length; j++) {
            best = logits[j] > logits[best] ? j : best;
        }
        assertEquals(best, got.getInt(1));
    }

    @Test
    void bfloat16RunsTheLinearLayersCloseToFloat32() throws Exception {
        Path file = SqlModels.tabular(dir, false);
        float[] logits;
        try (Model model = ModelFile.read(file, Kernels.create(1)).model()) {
            logits = modelAnswer(model, FEATURES, 1, 4);
        }
        ResolvedSchema input = schema(Column.physical("x", DataTypes.ARRAY(DataTypes.FLOAT())));
        ResolvedSchema output = schema(Column.physical("logits", DataTypes.ARRAY(DataTypes.FLOAT())));
        ModelSpec bf16 = new ModelSpec("m", file.toUri().toString(), Precision.BF16, null, 1, 1, 1, 0, new long[] {4},
                InvalidRows.FAIL, InputLayout.of(input, "m", 4), OutputLayout.of(output, "m", OutputLayout.Outputs.LOGITS));
        float[] got = predict(bf16, GenericRowData.of(new GenericArrayData(FEATURES))).getArray(0).toFloatArray();
        double maxError = 0;
        for (int j = 0; j < logits.length; j++) {
            maxError = Math.max(maxError, Math.abs(got[j] - logits[j]));
        }
        // bfloat16 keeps 8 bits of mantissa: weights and inputs round by up to 2^-9 of their size
        assertTrue(maxError > 0 && maxError < 0.05, "bf16 logits " + java.util.Arrays.toString(got) + " against float32 "
                + java.util.Arrays.toString(logits));
    }
}
