package org.streamdl.flink.connector.serialization;

import java.io.IOException;
import java.util.function.IntFunction;
import org.apache.flink.api.common.typeutils.TypeSerializer;
import org.apache.flink.api.common.typeutils.TypeSerializerSchemaCompatibility;
import org.apache.flink.api.common.typeutils.TypeSerializerSnapshot;
import org.apache.flink.core.memory.DataInputView;
import org.apache.flink.core.memory.DataOutputView;

/**
 * Base of StreamDL's Flink serializers for immutable records. Each writes a compact binary form
 * whose layout has a format version. A serializer built for an older version reads and writes that
 * version, so state written by an older StreamDL is restored by the old layout and rewritten in the
 * new one (Flink's "compatible after migration"); a newer version than this code knows is refused.
 */
public abstract class RecordSerializer<T> extends TypeSerializer<T> {
    private static final long serialVersionUID = 1L;

    private final int formatVersion;

    protected RecordSerializer(int formatVersion) {
        if (formatVersion < 1 || formatVersion > currentFormatVersion()) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " has no record format version "
                    + formatVersion + " (known: 1 to " + currentFormatVersion() + ")");
        }
        this.formatVersion = formatVersion;
    }

    /** The newest record layout this serializer knows. */
    protected abstract int currentFormatVersion();

    protected final int formatVersion() {
        return formatVersion;
    }

    protected abstract void write(T record, DataOutputView out) throws IOException;

    protected abstract T read(DataInputView in) throws IOException;

    @Override
    public final boolean isImmutableType() {
        return true;
    }

    @Override
    public TypeSerializer<T> duplicate() {
        return this; // stateless
    }

    @Override
    public final T copy(T from) {
        return from;
    }

    @Override
    public final T copy(T from, T reuse) {
        return from;
    }

    @Override
    public int getLength() {
        return -1;
    }

    @Override
    public final void serialize(T record, DataOutputView target) throws IOException {
        write(record, target);
    }

    @Override
    public final T deserialize(DataInputView source) throws IOException {
        return read(source);
    }

    @Override
    public final T deserialize(T reuse, DataInputView source) throws IOException {
        return read(source);
    }

    @Override
    public void copy(DataInputView source, DataOutputView target) throws IOException {
        write(read(source), target);
    }

    @Override
    public boolean equals(Object o) {
        return o != null && o.getClass() == getClass() && ((RecordSerializer<?>) o).formatVersion == formatVersion;
    }

    @Override
    public int hashCode() {
        return 31 * getClass().hashCode() + formatVersion;
    }

    /** A snapshot records the record layout version; subclasses only name the serializer to build. */
    public abstract static class Snapshot<T> implements TypeSerializerSnapshot<T> {
        private static final int SNAPSHOT_VERSION = 1;

        private final IntFunction<RecordSerializer<T>> serializerForVersion;
        private int formatVersion;

        protected Snapshot(IntFunction<RecordSerializer<T>> serializerForVersion, int formatVersion) {
            this.serializerForVersion = serializerForVersion;
            this.formatVersion = formatVersion;
        }

        public int formatVersion() {
            return formatVersion;
        }

        @Override
        public int getCurrentVersion() {
            return SNAPSHOT_VERSION;
        }

        @Override
        public void writeSnapshot(DataOutputView out) throws IOException {
            out.writeInt(formatVersion);
        }

        @Override
        public void readSnapshot(int readVersion, DataInputView in, ClassLoader userCodeClassLoader) throws IOException {
            if (readVersion != SNAPSHOT_VERSION) {
                throw new IOException(getClass().getName() + ": unknown snapshot version " + readVersion);
            }
            formatVersion = in.readInt();
        }

        @Override
        public TypeSerializer<T> restoreSerializer() {
            return serializerForVersion.apply(formatVersion);
        }

        @Override
        public TypeSerializerSchemaCompatibility<T> resolveSchemaCompatibility(TypeSerializerSnapshot<T> oldSnapshot) {
            if (oldSnapshot.getClass() != getClass()) {
                return TypeSerializerSchemaCompatibility.incompatible();
            }
            int oldVersion = ((Snapshot<T>) oldSnapshot).formatVersion;
            if (oldVersion == formatVersion) {
                return TypeSerializerSchemaCompatibility.compatibleAsIs();
            }
            return oldVersion < formatVersion
                    ? TypeSerializerSchemaCompatibility.compatibleAfterMigration()
                    : TypeSerializerSchemaCompatibility.incompatible();
        }
    }
}
