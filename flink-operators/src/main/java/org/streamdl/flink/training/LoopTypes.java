package org.streamdl.flink.training;

import java.io.IOException;
import java.lang.reflect.Type;
import java.util.Map;
import org.apache.flink.api.common.typeinfo.TypeInfoFactory;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;
import org.streamdl.flink.connector.serialization.RecordSerializer;
import org.streamdl.flink.connector.serialization.StreamDLTypes.RecordTypeInfo;

/** Flink types of the training loop's records, with their own versioned serializers (never Kryo). */
public final class LoopTypes {
    public static final TypeInformation<GradientSlice> GRADIENT_SLICE =
            new RecordTypeInfo<>(GradientSlice.class, GradientSliceSerializer::new);
    public static final TypeInformation<WeightSlice> WEIGHT_SLICE =
            new RecordTypeInfo<>(WeightSlice.class, WeightSliceSerializer::new);

    private LoopTypes() {}

    /**
     * A float array as its length and the values' bits, element by element: Flink's serializers
     * write ints straight into their buffer, which beats staging the array in a temporary byte
     * buffer (an allocation, a zeroing and a second copy per record).
     */
    static void writeFloats(float[] values, DataOutputView out) throws IOException {
        out.writeInt(values.length);
        for (float v : values) {
            out.writeInt(Float.floatToRawIntBits(v));
        }
    }

    static float[] readFloats(DataInputView in) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > Integer.MAX_VALUE / Float.BYTES) {
            throw new IOException("corrupt float array: length " + length);
        }
        float[] values = new float[length];
        for (int i = 0; i < length; i++) {
            values[i] = Float.intBitsToFloat(in.readInt());
        }
        return values;
    }

    public static final class GradientSliceSerializer extends RecordSerializer<GradientSlice> {
        private static final long serialVersionUID = 1L;
        static final int CURRENT_FORMAT = 1;

        public GradientSliceSerializer() {
            this(CURRENT_FORMAT);
        }

        GradientSliceSerializer(int formatVersion) {
            super(formatVersion);
        }

        @Override
        public GradientSlice createInstance() {
            return new GradientSlice(1, 0, 0, 0, 0, false, new float[0]);
        }

        @Override
        protected int currentFormatVersion() {
            return CURRENT_FORMAT;
        }

        @Override
        protected void write(GradientSlice g, DataOutputView out) throws IOException {
            out.writeLong(g.step());
            out.writeInt(g.sliceId());
            out.writeInt(g.worker());
            out.writeInt(g.sampleCount());
            out.writeDouble(g.lossSum());
            out.writeBoolean(g.finished());
            writeFloats(g.gradientSum(), out);
        }

        @Override
        protected GradientSlice read(DataInputView in) throws IOException {
            return new GradientSlice(in.readLong(), in.readInt(), in.readInt(), in.readInt(), in.readDouble(),
                    in.readBoolean(), readFloats(in));
        }

        @Override
        public TypeSerializerSnapshot<GradientSlice> snapshotConfiguration() {
            return new Snapshot(formatVersion());
        }

        public static final class Snapshot extends RecordSerializer.Snapshot<GradientSlice> {
            public Snapshot() {
                this(CURRENT_FORMAT);
            }

            Snapshot(int formatVersion) {
                super(GradientSliceSerializer::new, formatVersion);
            }
        }
    }

    public static final class WeightSliceSerializer extends RecordSerializer<WeightSlice> {
        private static final long serialVersionUID = 1L;
        static final int CURRENT_FORMAT = 1;

        public WeightSliceSerializer() {
            this(CURRENT_FORMAT);
        }

        WeightSliceSerializer(int formatVersion) {
            super(formatVersion);
        }

        @Override
        public WeightSlice createInstance() {
            return new WeightSlice(1, 0, 0, 0, false, new float[0]);
        }

        @Override
        protected int currentFormatVersion() {
            return CURRENT_FORMAT;
        }

        @Override
        protected void write(WeightSlice w, DataOutputView out) throws IOException {
            out.writeLong(w.version());
            out.writeInt(w.sliceId());
            out.writeLong(w.samplesApplied());
            out.writeDouble(w.meanLoss());
            out.writeBoolean(w.last());
            writeFloats(w.weights(), out);
        }

        @Override
        protected WeightSlice read(DataInputView in) throws IOException {
            return new WeightSlice(in.readLong(), in.readInt(), in.readLong(), in.readDouble(), in.readBoolean(),
                    readFloats(in));
        }

        @Override
        public TypeSerializerSnapshot<WeightSlice> snapshotConfiguration() {
            return new Snapshot(formatVersion());
        }

        public static final class Snapshot extends RecordSerializer.Snapshot<WeightSlice> {
            public Snapshot() {
                this(CURRENT_FORMAT);
            }

            Snapshot(int formatVersion) {
                super(WeightSliceSerializer::new, formatVersion);
            }
        }
    }

    public static final class GradientSliceTypeInfoFactory extends TypeInfoFactory<GradientSlice> {
        @Override
        public TypeInformation<GradientSlice> createTypeInfo(Type t, Map<String, TypeInformation<?>> generics) {
            return GRADIENT_SLICE;
        }
    }

    public static final class WeightSliceTypeInfoFactory extends TypeInfoFactory<WeightSlice> {
        @Override
        public TypeInformation<WeightSlice> createTypeInfo(Type t, Map<String, TypeInformation<?>> generics) {
            return WEIGHT_SLICE;
        }
    }
}
