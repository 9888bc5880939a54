package org.streamdl.flink.connector.serialization;

import java.lang.reflect.Type;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.flink.api.common.serialization.SerializerConfig;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.connector.records.Origin;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;

/**
 * Flink type information for StreamDL's records. The record classes name their factory with
 * {@code @TypeInfo}, so Flink finds these serializers by itself and never falls back to Kryo;
 * jobs run with {@code pipeline.generic-types: false}.
 */
public final class StreamDLTypes {
    public static final TypeInformation<TensorValue> TENSOR = new RecordTypeInfo<>(TensorValue.class, TensorValueSerializer::new);
    public static final TypeInformation<Sample> SAMPLE = new RecordTypeInfo<>(Sample.class, SampleSerializer::new);
    public static final TypeInformation<Prediction> PREDICTION = new RecordTypeInfo<>(Prediction.class, PredictionSerializer::new);
    public static final TypeInformation<DeadLetter> DEAD_LETTER = new RecordTypeInfo<>(DeadLetter.class, DeadLetterSerializer::new);
    public static final TypeInformation<ModelSnapshot> MODEL_SNAPSHOT = new RecordTypeInfo<>(ModelSnapshot.class, ModelSnapshotSerializer::new);
    public static final TypeInformation<RawRecord> RAW_RECORD = new RecordTypeInfo<>(RawRecord.class, RawRecordSerializer::new);
    public static final TypeInformation<Origin> ORIGIN = new RecordTypeInfo<>(Origin.class, OriginSerializer::new);

    private StreamDLTypes() {}

    /** Type information of one record class with its own serializer; a single field to Flink. */
    public static final class RecordTypeInfo<T> extends TypeInformation<T> {
        private static final long serialVersionUID = 1L;

        private final Class<T> type;
        private final SerializableSupplier<TypeSerializer<T>> serializer;

        public RecordTypeInfo(Class<T> type, SerializableSupplier<TypeSerializer<T>> serializer) {
            this.type = type;
            this.serializer = serializer;
        }

        @Override
        public boolean isBasicType() {
            return false;
        }

        @Override
        public boolean isTupleType() {
            return false;
        }

        @Override
        public int getArity() {
            return 1;
        }

        @Override
        public int getTotalFields() {
            return 1;
        }

        @Override
        public Class<T> getTypeClass() {
            return type;
        }

        @Override
        public boolean isKeyType() {
            return false;
        }

        @Override
        public TypeSerializer<T> createSerializer(SerializerConfig config) {
            return serializer.get();
        }

        @Override
        public String toString() {
            return type.getSimpleName();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof RecordTypeInfo<?> other && other.type == type;
        }

        @Override
        public int hashCode() {
            return type.hashCode();
        }

        @Override
        public boolean canEqual(Object o) {
            return o instanceof RecordTypeInfo;
        }
    }

    public interface SerializableSupplier<T> extends Supplier<T>, java.io.Serializable {}

    public static final class TensorTypeInfoFactory extends TypeInfoFactory<TensorValue> {
        @Override
        public TypeInformation<TensorValue> createTypeInfo(Type t, Map<String, TypeInformation<?>> generics) {
            return TENSOR;
        }
    }

    public static final class SampleTypeInfoFactory extends TypeInfoFactory<Sample> {
        @Override
        public TypeInformation<Sample> createTypeInfo(Type t, Map<String, TypeInformation<?>> generics) {
            return SAMPLE;
        }
    }

    public static final class PredictionTypeInfoFactory extends TypeInfoFactory<Prediction> {
        @Override
        public TypeInformation<Prediction> createTypeInfo(Type t, Map<String, TypeInformation<?>> generics) {
            return PREDICTION;
        }
    }

    public static final class DeadLetterTypeInfoFactory extends TypeInfoFactory<DeadLetter> {
        @Override
        public TypeInformation<DeadLetter> createTypeInfo(Type t, Map<String, TypeInformation<?>> generics) {
            return DEAD_LETTER;
        }
    }

    public static final class ModelSnapshotTypeInfoFactory extends TypeInfoFactory<ModelSnapshot> {
        @Override
        public TypeInformation<ModelSnapshot> createTypeInfo(Type t, Map<String, TypeInformation<?>> generics) {
            return MODEL_SNAPSHOT;
        }
    }

    public static final class RawRecordTypeInfoFactory extends TypeInfoFactory<RawRecord> {
        @Override
        public TypeInformation<RawRecord> createTypeInfo(Type t, Map<String, TypeInformation<?>> generics) {
            return RAW_RECORD;
        }
    }

    public static final class OriginTypeInfoFactory extends TypeInfoFactory<Origin> {
        @Override
        public TypeInformation<Origin> createTypeInfo(Type t, Map<String, TypeInformation<?>> generics) {
            return ORIGIN;
        }
    }
}
