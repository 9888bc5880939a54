package org.streamdl.flink.sql;

import java.io.Serializable;
import java.util.List;
import java.util.Locale;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.GenericArrayData;
import org.apache.flink.table.data.GenericRowData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

/**
 * Which of the model's answers fill the declared OUTPUT columns, found by name: {@code label} (or
 * {@code class}) the predicted class, {@code probabilities}, {@code logits}, {@code score} the top
 * probability, {@code model_version}. Any subset, in any order.
 */
final class OutputLayout implements Serializable {
    private static final long serialVersionUID = 1L;

    static final String ACCEPTED = "label or class (INT, BIGINT), probabilities (ARRAY<FLOAT>, ARRAY<DOUBLE>), "
            + "logits (ARRAY<FLOAT>, ARRAY<DOUBLE>), score (FLOAT, DOUBLE), model_version (BIGINT)";

    /** What the network's last layer gives. */
    enum Outputs { LOGITS, PROBABILITIES, LOG_PROBABILITIES }

    private enum Field { LABEL, PROBABILITIES, LOGITS, SCORE, MODEL_VERSION }

    private final Field[] fields;
    private final boolean[] wide;   // BIGINT / DOUBLE / ARRAY<DOUBLE> rather than INT / FLOAT / ARRAY<FLOAT>
    private final Outputs outputs;

    private OutputLayout(Field[] fields, boolean[] wide, Outputs outputs) {
        this.fields = fields;
        this.wide = wide;
        this.outputs = outputs;
    }

    /**
     * The layout of the model's OUTPUT schema, for a network whose last layer gives {@code outputs}.
     *
     * @throws ValidationException naming the column and what is accepted, when a column cannot be filled
     */
    static OutputLayout of(ResolvedSchema output, String model, Outputs outputs) {
        List<Column> columns = output.getColumns();
        if (columns.isEmpty()) {
            throw new ValidationException("model " + model + ": the OUTPUT has no columns; it fills " + ACCEPTED);
        }
        Field[] fields = new Field[columns.size()];
        boolean[] wide = new boolean[columns.size()];
        for (int i = 0; i < fields.length; i++) {
            String name = columns.get(i).getName();
            LogicalType type = columns.get(i).getDataType().getLogicalType();
            fields[i] = switch (name.toLowerCase(Locale.ROOT)) {
                case "label", "class" -> Field.LABEL;
                case "probabilities" -> Field.PROBABILITIES;
                case "logits" -> Field.LOGITS;
                case "score" -> Field.SCORE;
                case "model_version" -> Field.MODEL_VERSION;
                default -> throw new ValidationException("model " + model + ": output column '" + name
                        + "' is not an answer the model gives; name the OUTPUT columns among " + ACCEPTED);
            };
            LogicalTypeRoot root = type.getTypeRoot();
            LogicalTypeRoot element = root == LogicalTypeRoot.ARRAY ? type.getChildren().get(0).getTypeRoot() : null;
            boolean fits = switch (fields[i]) {
                case LABEL -> root == LogicalTypeRoot.INTEGER || root == LogicalTypeRoot.BIGINT;
                case PROBABILITIES, LOGITS -> element == LogicalTypeRoot.FLOAT || element == LogicalTypeRoot.DOUBLE;
                case SCORE -> root == LogicalTypeRoot.FLOAT || root == LogicalTypeRoot.DOUBLE;
                case MODEL_VERSION -> root == LogicalTypeRoot.BIGINT;
            };
            if (!fits) {
                throw new ValidationException("model " + model + ": output column '" + name + "' is "
                        + type.asSummaryString() + "; the types accepted are " + ACCEPTED);
            }
            if (fields[i] == Field.LOGITS && outputs != Outputs.LOGITS) {
                throw new ValidationException("model " + model + ": output column '" + name + "' cannot be filled: the "
                        + "network ends in " + (outputs == Outputs.PROBABILITIES ? "Softmax" : "LogSoftmax")
                        + ", so its logits are not known; declare 'probabilities' instead");
            }
            wide[i] = root == LogicalTypeRoot.BIGINT || root == LogicalTypeRoot.DOUBLE || element == LogicalTypeRoot.DOUBLE;
        }
        return new OutputLayout(fields, wide, outputs);
    }

    /** The output row of one prediction: {@code width} network outputs of {@code out} from {@code offset}. */
    RowData write(float[] out, int offset, int width, long version) {
        int best = 0;
        for (int j = 1; j < width; j++) {
            if (out[offset + j] > out[offset + best]) {
                best = j;
            }
        }
        float[] probabilities = null;
        GenericRowData row = new GenericRowData(fields.length);
        for (int i = 0; i < fields.length; i++) {
            if ((fields[i] == Field.PROBABILITIES || fields[i] == Field.SCORE) && probabilities == null) {
                probabilities = probabilities(out, offset, width);
            }
            Object value = switch (fields[i]) {
                case LABEL -> wide[i] ? (Object) (long) best : (Object) best;
                case PROBABILITIES -> array(probabilities, 0, width, wide[i]);
                case LOGITS -> array(out, offset, width, wide[i]);
                case SCORE -> wide[i] ? (Object) (double) probabilities[best] : (Object) probabilities[best];
                case MODEL_VERSION -> version;
            };
            row.setField(i, value);
        }
        return row;
    }

    /** The row answered for a row the model could not take: every column NULL. */
    RowData nulls() {
        return new GenericRowData(fields.length);
    }

    private float[] probabilities(float[] out, int offset, int width) {
        float[] p = new float[width];
        if (outputs == Outputs.PROBABILITIES) {
            System.arraycopy(out, offset, p, 0, width);
            return p;
        }
        if (outputs == Outputs.LOG_PROBABILITIES) {
            for (int j = 0; j < width; j++) {
                p[j] = (float) Math.exp(out[offset + j]);
            }
            return p;
        }
        double max = Double.NEGATIVE_INFINITY;   // softmax with the maximum subtracted, as the Softmax layer does
        for (int j = 0; j < width; j++) {
            max = Math.max(max, out[offset + j]);
        }
        double sum = 0;
        for (int j = 0; j < width; j++) {
            sum += Math.exp(out[offset + j] - max);
        }
        for (int j = 0; j < width; j++) {
            p[j] = (float) (Math.exp(out[offset + j] - max) / sum);
        }
        return p;
    }

    private static GenericArrayData array(float[] values, int offset, int width, boolean asDouble) {
        if (asDouble) {
            double[] d = new double[width];
            for (int j = 0; j < width; j++) {
                d[j] = values[offset + j];
            }
            return new GenericArrayData(d);
        }
        float[] f = new float[width];
        System.arraycopy(values, offset, f, 0, width);
        return new GenericArrayData(f);
    }
}
