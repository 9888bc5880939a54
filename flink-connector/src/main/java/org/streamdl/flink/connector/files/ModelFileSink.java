package org.streamdl.flink.connector.files;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Objects;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.streamdl.flink.connector.records.ModelSnapshot;

/**
 * Writes every {@link ModelSnapshot} as a model file of its own, {@code <model>-v<version>.sdlm}
 * (the version zero-padded to 12 digits, so names sort by version), in a directory on any Flink
 * file system. Each file is written under a hidden temporary name and renamed once complete, so a
 * reader listing the directory never sees half a file. A snapshot emitted again after a restore
 * has the same version and replaces its file with the same model: the directory holds each version
 * once, whatever failures the job went through.
 */
public final class ModelFileSink implements Sink<ModelSnapshot> {
    private static final long serialVersionUID = 1L;

    private final String directory;

    private ModelFileSink(String directory) {
        this.directory = Objects.requireNonNull(directory, "directory");
    }

    /** A sink into {@code directory} (a path or URI Flink's file systems know), created if missing. */
    public static ModelFileSink to(String directory) {
        return new ModelFileSink(directory);
    }

    /** The file name a snapshot of {@code modelName} at {@code version} gets. */
    public static String fileName(String modelName, long version) {
        return String.format("%s-v%012d.sdlm", modelName.replaceAll("[^A-Za-z0-9._-]", "_"), version);
    }

    @Override
    public SinkWriter<ModelSnapshot> createWriter(WriterInitContext context) throws IOException {
        return writer(context.getTaskInfo().getIndexOfThisSubtask());
    }

    SinkWriter<ModelSnapshot> writer(int subtask) throws IOException {
        Path dir = new Path(directory);
        FileSystem fs = dir.getFileSystem();
        fs.mkdirs(dir);
        return new Writer(fs, dir, subtask);
    }

    private static final class Writer implements SinkWriter<ModelSnapshot> {
        private final FileSystem fs;
        private final Path dir;
        private final int subtask;

        Writer(FileSystem fs, Path dir, int subtask) {
            this.fs = fs;
            this.dir = dir;
            this.subtask = subtask;
        }

        @Override
        public void write(ModelSnapshot snapshot, Context context) throws IOException {
            String name = fileName(snapshot.modelName(), snapshot.version());
            Path target = new Path(dir, name);
            // the subtask in the temporary name: two writers never share one
            Path temporary = new Path(dir, "." + name + "." + subtask + ".inprogress");
            try (OutputStream out = fs.create(temporary, FileSystem.WriteMode.OVERWRITE)) {
                out.write(snapshot.modelFile());
            }
            if (fs.exists(target)) {
                fs.delete(target, false);   // a version written again after a restore
            }
            if (!fs.rename(temporary, target)) {
                throw new IOException("cannot rename " + temporary + " to " + target);
            }
        }

        @Override
        public void flush(boolean endOfInput) {
            // every file is complete when write returns
        }

        @Override
        public void close() {
            // nothing held open between snapshots
        }
    }
}
