package org.streamdl.flink.connector.records;

import java.util.Arrays;
import java.util.Objects;
import org.apache.flink.api.common.typeinfo.TypeInfo;
import org.streamdl.flink.connector.serialization.StreamDLTypes;

/**
 * One version of a model as it travels through a job: the complete model file (the engine's
 * versioned, checksummed format, never Java serialization), its version, how many samples have
 * been applied to reach it, and when it was made. Model files run to hundreds of megabytes, so the
 * bytes are shared, not copied, between operators in one JVM; never modify them.
 */
@TypeInfo(StreamDLTypes.ModelSnapshotTypeInfoFactory.class)
public record ModelSnapshot(String modelName, long version, long samplesApplied, long createdAt, byte[] modelFile) {
    public ModelSnapshot {
        Objects.requireNonNull(modelName, "modelName");
        Objects.requireNonNull(modelFile, "modelFile");
        if (version < 0 || samplesApplied < 0) {
            throw new IllegalArgumentException("version and samplesApplied must be >= 0 but are " + version
                    + " and " + samplesApplied);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelSnapshot m && modelName.equals(m.modelName) && version == m.version
                && samplesApplied == m.samplesApplied && createdAt == m.createdAt && Arrays.equals(modelFile, m.modelFile);
    }

    @Override
    public int hashCode() {
        return Objects.hash(modelName, version, samplesApplied, createdAt, Arrays.hashCode(modelFile));
    }

    @Override
    public String toString() {
        return "ModelSnapshot{" + modelName + " v" + version + ", " + samplesApplied + " samples, "
                + modelFile.length + " bytes}";
    }
}
