package org.streamdl.flink.sql;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.ExplainDetail;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.api.TableException;
import org.apache.flink.table.api.ValidationException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each rule of the {@code streamdl} model provider is checked when a statement is planned: the
 * statement is refused with a ValidationException whose message names the option or column.
 */
class StreamDLModelProviderFactoryTest {
    @TempDir
    static Path dir;

    private static Path lenet;
    private static Path tabular;
    private static Path softmax;

    private TableEnvironment tEnv;

    @BeforeEach
    void setUp() throws Exception {
        if (lenet == null) {
            lenet = SqlModels.lenet5(dir);
            tabular = SqlModels.tabular(dir, false);
            softmax = SqlModels.tabular(dir, true);
        }
        tEnv = TableEnvironment.create(EnvironmentSettings.inStreamingMode());
        tEnv.executeSql("CREATE TABLE images (id BIGINT, pixels ARRAY<FLOAT>, packed BYTES, ints ARRAY<INT>, truth INT)"
                + " WITH ('connector' = 'datagen', 'number-of-rows' = '1')");
        tEnv.executeSql("CREATE TABLE rows4 (id BIGINT, a INT, b DOUBLE, c FLOAT, d DECIMAL(10, 2))"
                + " WITH ('connector' = 'datagen', 'number-of-rows' = '1')");
    }

    /** Plans ML_PREDICT over {@code table} with a model of these columns and options; returns the plan. */
    private String plan(String table, String input, String output, String options, String descriptor) {
        tEnv.executeSql("CREATE MODEL m INPUT (" + input + ") OUTPUT (" + output + ") WITH ('provider' = 'streamdl', "
                + options + ")");
        return tEnv.explainSql("SELECT * FROM ML_PREDICT(TABLE " + table + ", MODEL m, DESCRIPTOR(" + descriptor + "))",
                ExplainDetail.JSON_EXECUTION_PLAN);
    }

    private String lenetPlan(String options) {
        return plan("images", "pixels ARRAY<FLOAT>", "label INT", options, "pixels");
    }

    private void refused(String options, String... named) {
        refused(() -> lenetPlan(options), named);
    }

    private static void refused(org.junit.jupiter.api.function.Executable planning, String... named) {
        ValidationException e = assertThrows(ValidationException.class, planning);
        StringBuilder messages = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            messages.append(t.getMessage()).append('\n');
        }
        for (String n : named) {
            assertTrue(messages.toString().contains(n), "expected '" + n + "' in:\n" + messages);
        }
    }

    private static String path(Path p) {
        return "'path' = '" + p.toUri() + "'";
    }

    @Test
    void plansAValidModel() {
        String plan = lenetPlan(path(lenet) + ", 'feature-shape' = '1,28,28'");
        assertTrue(plan.contains("ml-predict") || plan.contains("ML_PREDICT") || plan.contains("MLPredict"), plan);
    }

    @Test
    void refusesAMissingPath() {
        refused("'feature-shape' = '1,28,28'", "path");
    }

    @Test
    void refusesAnUnknownOption() {
        refused(path(lenet) + ", 'feature-shape' = '1,28,28', 'batch' = '3'", "batch", "max-batch-size");
    }

    @Test
    void refusesAModelFileThatDoesNotRead() {
        refused("'path' = '" + dir.resolve("missing.sdlm").toUri() + "', 'feature-shape' = '1,28,28'", "'path'",
                "missing.sdlm");
    }

    @Test
    void refusesAnUnknownPrecision() {
        refused(path(lenet) + ", 'feature-shape' = '1,28,28', 'precision' = 'fp16'", "'precision'", "FP32, BF16, INT8");
    }

    @Test
    void refusesAnUnknownInvalidRowsChoice() {
        refused(path(lenet) + ", 'feature-shape' = '1,28,28', 'invalid-rows' = 'skip'", "'invalid-rows'", "FAIL, NULL");
    }

    @Test
    void refusesZeroThreads() {
        refused(path(lenet) + ", 'feature-shape' = '1,28,28', 'threads' = '0'", "'threads'", ">= 1");
    }

    @Test
    void refusesAZeroBatchSize() {
        refused(path(lenet) + ", 'feature-shape' = '1,28,28', 'max-batch-size' = '0'", "'max-batch-size'", ">= 1");
    }

    @Test
    void refusesZeroCalibrationSamples() {
        refused(path(lenet) + ", 'feature-shape' = '1,28,28', 'precision' = 'int8', 'calibration-samples' = '0'",
                "'calibration-samples'", ">= 1");
    }

    @Test
    void refusesABatchDelayThatIsNotADuration() {
        refused(path(lenet) + ", 'feature-shape' = '1,28,28', 'max-batch-delay' = 'soon'", "'max-batch-delay'", "duration");
    }

    @Test
    void refusesAFeatureShapeThatDoesNotParse() {
        refused(path(lenet) + ", 'feature-shape' = '1x28x28'", "'feature-shape'", "'1,28,28'");
    }

    @Test
    void refusesAFeatureShapeTheModelDoesNotTake() {
        refused(path(lenet) + ", 'feature-shape' = '784'", "'feature-shape'", "[784]");
    }

    @Test
    void needsAFeatureShapeWhenTheModelDoesNotSayIt() {
        refused(path(lenet), "'feature-shape'", "Linear");
    }

    @Test
    void int8OfAFloatModelNeedsCalibration() {
        refused(path(lenet) + ", 'feature-shape' = '1,28,28', 'precision' = 'int8'", "'precision'", "'calibration-path'");
    }

    @Test
    void refusesCalibrationWithoutInt8() {
        refused(path(lenet) + ", 'feature-shape' = '1,28,28', 'calibration-path' = '"
                + SqlModels.FASHION_MNIST.resolve("train-images-idx3-ubyte.gz").toAbsolutePath().toUri() + "'",
                "'calibration-path'", "'precision' = 'int8'");
    }

    @Test
    void refusesCalibrationImagesOfAnotherSize() {
        refused(() -> plan("rows4", "a INT, b DOUBLE, c FLOAT, d DECIMAL(10, 2)", "label INT", path(tabular)
                + ", 'precision' = 'int8', 'calibration-path' = '"
                + SqlModels.FASHION_MNIST.resolve("train-images-idx3-ubyte.gz").toAbsolutePath().toUri() + "'",
                "a, b, c, d"), "'calibration-path'", "784", "4 values");
    }

    @Test
    void refusesAnInputColumnOfAnotherType() {
        refused(() -> plan("images", "ints ARRAY<INT>", "label INT", path(lenet) + ", 'feature-shape' = '1,28,28'",
                "ints"), "'ints'", "ARRAY<FLOAT>");
    }

    @Test
    void refusesAnArrayColumnBesideOthers() {
        refused(() -> plan("images", "id BIGINT, pixels ARRAY<FLOAT>", "label INT", path(lenet)
                + ", 'feature-shape' = '1,28,28'", "id, pixels"), "'pixels'", "only input column");
    }

    @Test
    void refusesNumericColumnsOfAnotherCount() {
        refused(() -> plan("rows4", "a INT, b DOUBLE, c FLOAT", "label INT", path(tabular), "a, b, c"),
                "3 numeric columns", "4 values");
    }

    @Test
    void plansNumericColumnsWithTheShapeTakenFromTheModel() {
        String plan = plan("rows4", "a INT, b DOUBLE, c FLOAT, d DECIMAL(10, 2)",
                "class BIGINT, probabilities ARRAY<DOUBLE>, logits ARRAY<FLOAT>, score FLOAT, model_version BIGINT",
                path(tabular), "a, b, c, d");
        assertTrue(!plan.isEmpty());
    }

    @Test
    void refusesAnOutputColumnTheModelDoesNotGive() {
        refused(() -> plan("images", "pixels ARRAY<FLOAT>", "label INT, confidence FLOAT", path(lenet)
                + ", 'feature-shape' = '1,28,28'", "pixels"), "'confidence'", "probabilities");
    }

    @Test
    void refusesAnOutputColumnOfAnotherType() {
        refused(() -> plan("images", "pixels ARRAY<FLOAT>", "label STRING", path(lenet) + ", 'feature-shape' = '1,28,28'",
                "pixels"), "'label'", "INT, BIGINT");
    }

    @Test
    void refusesLogitsOfANetworkEndingInSoftmax() {
        refused(() -> plan("rows4", "a INT, b DOUBLE, c FLOAT, d DECIMAL(10, 2)", "logits ARRAY<FLOAT>", path(softmax),
                "a, b, c, d"), "'logits'", "Softmax", "'probabilities'");
    }

    /**
     * Evidence for docs/sql.md: Flink 2.2 parses and validates ML_EVALUATE (its result is a
     * MAP<STRING, DOUBLE> of metrics) but its planner has no rule to run it. When this test fails,
     * a newer Flink plans it and the docs should say so.
     */
    @Test
    void flinkDoesNotPlanMlEvaluate() {
        tEnv.executeSql("CREATE MODEL m INPUT (pixels ARRAY<FLOAT>) OUTPUT (label INT) WITH ('provider' = 'streamdl', "
                + path(lenet) + ", 'feature-shape' = '1,28,28')");
        TableException e = assertThrows(TableException.class, () -> tEnv.explainSql("SELECT * FROM ML_EVALUATE(TABLE images, "
                + "MODEL m, DESCRIPTOR(truth), DESCRIPTOR(pixels), 'classification')", ExplainDetail.JSON_EXECUTION_PLAN));
        assertTrue(e.getMessage().contains("Cannot generate a valid execution plan") && e.getMessage().contains("ML_EVALUATE"),
                e.getMessage());
    }

    @Test
    void refusesBfloat16OfAModelAlreadyInInt8() throws Exception {
        Path int8 = dir.resolve("tabular-int8.sdlm");
        try (org.streamdl.dnn.model.Model model = org.streamdl.dnn.model.ModelFile.read(tabular,
                org.streamdl.dnn.Kernels.create(1)).model();
             org.streamdl.tensor.Allocator a = org.streamdl.tensor.Allocator.root("calibration", 1L << 20)) {
            var batch = org.streamdl.tensor.ops.Convert.fromFloats(new float[] {0.5f, -1, 2, 0.25f, 1, 0, -0.5f, 3},
                    org.streamdl.tensor.Shape.of(2, 4), a);
            try (var q = org.streamdl.dnn.quantize.Quantizer.quantize(model, java.util.List.of(batch),
                    org.streamdl.dnn.quantize.Quantizer.Calibration.MAX_ABS, 100, org.streamdl.dnn.Kernels.create(1))) {
                org.streamdl.dnn.model.ModelFile.write(int8, q.model(), java.util.Map.of());
            }
        }
        refused(() -> plan("rows4", "a INT, b DOUBLE, c FLOAT, d DECIMAL(10, 2)", "label INT", path(int8)
                + ", 'precision' = 'bf16'", "a, b, c, d"), "'precision'", "already int8");
        tEnv.executeSql("DROP MODEL m");
        assertTrue(!plan("rows4", "a INT, b DOUBLE, c FLOAT, d DECIMAL(10, 2)", "label INT", path(int8)
                + ", 'precision' = 'int8'", "a, b, c, d").isEmpty(), "an int8 file needs no calibration");
    }
}
