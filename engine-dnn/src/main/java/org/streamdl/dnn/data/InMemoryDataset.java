package org.streamdl.dnn.data;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.file.Path;
import java.io.IOException;
import org.streamdl.tensor.Checks;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * Samples held on the heap: either unsigned-byte pixels scaled by 1/255 when read (IDX images) or
 * float features (CSV), with int class labels.
 */
public final class InMemoryDataset implements Dataset {
    private final Shape sampleShape;
    private final int sampleSize;
    private final byte[] pixels;      // one of pixels / features is set
    private final float[] features;
    private final int[] labels;

    private InMemoryDataset(Shape sampleShape, byte[] pixels, float[] features, int[] labels) {
        this.sampleShape = sampleShape;
        this.sampleSize = (int) sampleShape.elementCount();
        this.pixels = pixels;
        this.features = features;
        this.labels = labels;
        long values = pixels != null ? pixels.length : features.length;
        Checks.argument(values == (long) labels.length * sampleSize,
                "%s values do not make %s samples of shape %s", values, labels.length, sampleShape);
    }

    public static InMemoryDataset ofPixels(byte[] pixels, Shape sampleShape, int[] labels) {
        return new InMemoryDataset(sampleShape, pixels, null, labels);
    }

    public static InMemoryDataset ofFeatures(float[] features, Shape sampleShape, int[] labels) {
        return new InMemoryDataset(sampleShape, null, features, labels);
    }

    /**
     * An IDX image file and its label file (Fashion-MNIST's {@code train} or {@code t10k}), as
     * (1, rows, cols) samples scaled to [0, 1].
     */
    public static InMemoryDataset fromIdx(Path images, Path labelFile) throws IOException {
        IdxFile imageFile = IdxFile.read(images);
        IdxFile labelIdx = IdxFile.read(labelFile);
        int[] dims = imageFile.dims();
        if (dims.length != 3) {
            throw new DatasetFormatException(images, "expected images (count, rows, columns) but the header has "
                    + dims.length + " axes");
        }
        if (labelIdx.dims().length != 1 || labelIdx.dims()[0] != dims[0]) {
            throw new DatasetFormatException(labelFile, "has " + java.util.Arrays.toString(labelIdx.dims())
                    + " labels but " + images.getFileName() + " has " + dims[0] + " images");
        }
        byte[] raw = labelIdx.data();
        int[] labels = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            labels[i] = raw[i] & 0xff;
        }
        return ofPixels(imageFile.data(), Shape.of(1, dims[1], dims[2]), labels);
    }

    /** Fashion-MNIST from a directory with Debian's file names; {@code split} is {@code train} or {@code t10k}. */
    public static InMemoryDataset fashionMnist(Path directory, String split) throws IOException {
        return fromIdx(directory.resolve(split + "-images-idx3-ubyte.gz"), directory.resolve(split + "-labels-idx1-ubyte.gz"));
    }

    /**
     * A CSV file's features as samples of shape (features) and its label column as class indices,
     * which must be whole numbers from 0; the message names the row otherwise.
     */
    public static InMemoryDataset fromCsv(CsvFile csv, Path file) throws DatasetFormatException {
        double[] raw = csv.labels();
        int[] labels = new int[raw.length];
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] < 0 || raw[i] != Math.rint(raw[i]) || raw[i] > Integer.MAX_VALUE) {
                throw new DatasetFormatException(file, "row " + (i + 1) + ": label '" + csv.labelName() + "' is " + raw[i]
                        + "; class labels must be whole numbers from 0");
            }
            labels[i] = (int) raw[i];
        }
        return ofFeatures(csv.features(), Shape.of(csv.featureNames().length), labels);
    }

    /** The first {@code count} samples (a quick slice for tests and smoke runs). */
    public InMemoryDataset head(int count) {
        Checks.argument(count >= 0 && count <= size(), "head(%s) of a dataset of %s samples", count, size());
        int[] l = java.util.Arrays.copyOf(labels, count);
        return pixels != null
                ? ofPixels(java.util.Arrays.copyOf(pixels, count * sampleSize), sampleShape, l)
                : ofFeatures(java.util.Arrays.copyOf(features, count * sampleSize), sampleShape, l);
    }

    @Override
    public int size() {
        return labels.length;
    }

    @Override
    public Shape sampleShape() {
        return sampleShape;
    }

    public int label(int index) {
        return labels[index];
    }

    @Override
    public void fill(int[] indices, int from, int count, Tensor featureBatch, Tensor labelBatch) {
        Checks.argument(featureBatch.isContiguous() && featureBatch.elementCount() == (long) count * sampleSize,
                "batch features %s do not hold %s samples of %s", featureBatch.shape(), count, sampleShape);
        FloatBuffer out = featureBatch.buffer().asFloatBuffer();
        IntBuffer outLabels = labelBatch.buffer().asIntBuffer();
        int base = (int) featureBatch.offset();
        int labelBase = (int) labelBatch.offset();
        float[] row = new float[sampleSize];
        for (int b = 0; b < count; b++) {
            int sample = indices[from + b];
            int at = sample * sampleSize;
            if (pixels != null) {
                for (int i = 0; i < sampleSize; i++) {
                    row[i] = (pixels[at + i] & 0xff) / 255f;
                }
                out.put(base + b * sampleSize, row);
            } else {
                out.put(base + b * sampleSize, features, at, sampleSize);
            }
            outLabels.put(labelBase + b, labels[sample]);
        }
    }
}
