package org.streamdl.flink.sql;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.table.api.ValidationException;
import org.apache.flink.table.catalog.Column;
import org.apache.flink.table.catalog.ResolvedSchema;
import org.apache.flink.table.data.ArrayData;
import org.apache.flink.table.data.RowData;
import org.apache.flink.table.types.logical.DecimalType;
import org.apache.flink.table.types.logical.LogicalType;
import org.apache.flink.table.types.logical.LogicalTypeRoot;

/**
 * How a model's input columns become one row of features: a single {@code ARRAY<FLOAT>} or
 * {@code ARRAY<DOUBLE>} column (reshaped to the feature shape), a single {@code BYTES} column of
 * little-endian float32 values, or numeric columns concatenated in their declared order.
 */
final class InputLayout implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final String ACCEPTED = "one ARRAY<FLOAT>, ARRAY<DOUBLE> or BYTES column, or numeric columns "
            + "(TINYINT, SMALLINT, INT, BIGINT, FLOAT, DOUBLE, DECIMAL) concatenated";

    enum Kind { FLOAT_ARRAY, DOUBLE_ARRAY, BYTES, NUMBERS }

    private final Kind kind;
    private final String[] names;
    private final LogicalTypeRoot[] roots;       // NUMBERS: each column's type
    private final int[] decimalPrecision;        // NUMBERS: for DECIMAL columns
    private final int[] decimalScale;
    private final int featureCount;

    private InputLayout(Kind kind, String[] names, LogicalTypeRoot[] roots, int[] decimalPrecision, int[] decimalScale,
                        int featureCount) {
        this.kind = kind;
        this.names = names;
        this.roots = roots;
        this.decimalPrecision = decimalPrecision;
        this.decimalScale = decimalScale;
        this.featureCount = featureCount;
    }

    /**
     * The layout of the model's INPUT schema for rows of {@code featureCount} values.
     *
     * @throws ValidationException naming the column and what is accepted, when the schema does not fit
     */
    static InputLayout of(ResolvedSchema input, String model, int featureCount) {
        List<Column> columns = new ArrayList<>(input.getColumns());
        if (columns.isEmpty()) {
            throw new ValidationException("model " + model + ": the INPUT has no columns; it takes " + ACCEPTED);
        }
        String[] names = columns.stream().map(Column::getName).toArray(String[]::new);
        for (int i = 0; columns.size() > 1 && i < columns.size(); i++) {
            LogicalType t = columns.get(i).getDataType().getLogicalType();
            if (t.getTypeRoot() == LogicalTypeRoot.ARRAY || t.getTypeRoot() == LogicalTypeRoot.BINARY
                    || t.getTypeRoot() == LogicalTypeRoot.VARBINARY) {
                throw new ValidationException("model " + model + ": input column '" + names[i] + "' is "
                        + t.asSummaryString() + " and must then be the only input column, but the INPUT has "
                        + List.of(names) + "; it takes " + ACCEPTED);
            }
        }
        LogicalType first = columns.get(0).getDataType().getLogicalType();
        Kind single = switch (first.getTypeRoot()) {
            case ARRAY -> switch (first.getChildren().get(0).getTypeRoot()) {
                case FLOAT -> Kind.FLOAT_ARRAY;
                case DOUBLE -> Kind.DOUBLE_ARRAY;
                default -> throw new ValidationException("model " + model + ": input column '" + names[0] + "' is "
                        + first.asSummaryString() + "; it takes " + ACCEPTED);
            };
            case BINARY, VARBINARY -> Kind.BYTES;
            default -> null;
        };
        if (single != null) {
            if (single == Kind.BYTES && first.getTypeRoot() == LogicalTypeRoot.BINARY
                    && ((org.apache.flink.table.types.logical.BinaryType) first).getLength() != featureCount * Float.BYTES) {
                throw new ValidationException("model " + model + ": input column '" + names[0] + "' is "
                        + first.asSummaryString() + " but the model takes " + featureCount + " float32 values, "
                        + featureCount * Float.BYTES + " bytes; declare BYTES or BINARY(" + featureCount * Float.BYTES + ")");
            }
            return new InputLayout(single, names, null, null, null, featureCount);
        }
        LogicalTypeRoot[] roots = new LogicalTypeRoot[columns.size()];
        int[] precision = new int[columns.size()];
        int[] scale = new int[columns.size()];
        for (int i = 0; i < columns.size(); i++) {
            LogicalType t = columns.get(i).getDataType().getLogicalType();
            roots[i] = t.getTypeRoot();
            switch (roots[i]) {
                case TINYINT, SMALLINT, INTEGER, BIGINT, FLOAT, DOUBLE -> { }
                case DECIMAL -> {
                    precision[i] = ((DecimalType) t).getPrecision();
                    scale[i] = ((DecimalType) t).getScale();
                }
                default -> throw new ValidationException("model " + model + ": input column '" + names[i] + "' is "
                        + t.asSummaryString() + "; it takes " + ACCEPTED);
            }
        }
        if (columns.size() != featureCount) {
            throw new ValidationException("model " + model + ": the INPUT has " + columns.size() + " numeric columns "
                    + List.of(names) + " but the model takes " + featureCount + " values per row; declare "
                    + featureCount + " numeric columns, or one ARRAY<FLOAT> column");
        }
        return new InputLayout(Kind.NUMBERS, names, roots, precision, scale, featureCount);
    }

    int featureCount() {
        return featureCount;
    }

    /**
     * Writes {@code row}'s features into {@code into} from {@code offset}; returns null, or what is
     * wrong with the row (a NULL, a NaN or infinity, the wrong length), naming the column.
     */
    String read(RowData row, float[] into, int offset) {
        switch (kind) {
            case FLOAT_ARRAY, DOUBLE_ARRAY -> {
                if (row.isNullAt(0)) {
                    return "column '" + names[0] + "' is NULL";
                }
                ArrayData a = row.getArray(0);
                if (a.size() != featureCount) {
                    return "column '" + names[0] + "' has " + a.size() + " values, expected " + featureCount;
                }
                try {   // bulk copies; both refuse an array holding a NULL
                    if (kind == Kind.FLOAT_ARRAY) {
                        System.arraycopy(a.toFloatArray(), 0, into, offset, featureCount);
                    } else {
                        double[] d = a.toDoubleArray();
                        for (int i = 0; i < featureCount; i++) {
                            into[offset + i] = (float) d[i];
                        }
                    }
                } catch (RuntimeException e) {
                    for (int i = 0; i < featureCount; i++) {
                        if (a.isNullAt(i)) {
                            return "column '" + names[0] + "' has NULL at element " + i;
                        }
                    }
                    throw e;
                }
            }
            case BYTES -> {
                if (row.isNullAt(0)) {
                    return "column '" + names[0] + "' is NULL";
                }
                byte[] bytes = row.getBinary(0);
                if (bytes.length != featureCount * Float.BYTES) {
                    return "column '" + names[0] + "' has " + bytes.length + " bytes, expected " + featureCount * Float.BYTES
                            + " (" + featureCount + " little-endian float32 values)";
                }
                ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(into, offset, featureCount);
            }
            case NUMBERS -> {
                for (int i = 0; i < featureCount; i++) {
                    if (row.isNullAt(i)) {
                        return "column '" + names[i] + "' is NULL";
                    }
                    into[offset + i] = switch (roots[i]) {
                        case TINYINT -> row.getByte(i);
                        case SMALLINT -> row.getShort(i);
                        case INTEGER -> row.getInt(i);
                        case BIGINT -> row.getLong(i);
                        case FLOAT -> row.getFloat(i);
                        case DOUBLE -> (float) row.getDouble(i);
                        default -> row.getDecimal(i, decimalPrecision[i], decimalScale[i]).toBigDecimal().floatValue();
                    };
                }
            }
        }
        for (int i = 0; i < featureCount; i++) {
            if (!Float.isFinite(into[offset + i])) {
                return (kind == Kind.NUMBERS ? "column '" + names[i] + "'" : "column '" + names[0] + "' element " + i)
                        + " is " + into[offset + i] + "; the model takes finite values";
            }
        }
        return null;
    }
}
