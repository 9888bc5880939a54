package org.streamdl.dnn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvFileTest {
    @TempDir
    Path dir;

    private Path csv(String content) throws IOException {
        Path f = dir.resolve("data.csv");
        Files.writeString(f, content);
        return f;
    }

    @Test
    void readsFeaturesAndTheNamedLabelColumn() throws IOException {
        CsvFile f = CsvFile.read(csv("amount,fraud,age\n1.5,0,30\n-2,1,41\n\n"), CsvFile.Options.labelNamed("fraud"));
        assertEquals(2, f.rowCount());
        assertArrayEquals(new String[] {"amount", "age"}, f.featureNames());
        assertEquals("fraud", f.labelName());
        assertArrayEquals(new float[] {1.5f, 30, -2, 41}, f.features());
        assertArrayEquals(new double[] {0, 1}, f.labels());
    }

    @Test
    void readsHeaderlessFilesWithTheLabelLast() throws IOException {
        CsvFile f = CsvFile.read(csv("1;2;3\n4;5;6\n"), CsvFile.Options.labelAt(-1, false).withDelimiter(';'));
        assertArrayEquals(new float[] {1, 2, 4, 5}, f.features());
        assertArrayEquals(new double[] {3, 6}, f.labels());
    }

    @Test
    void becomesADatasetOfClassIndices() throws IOException {
        Path p = csv("a,b,label\n1,2,0\n3,4,2\n");
        InMemoryDataset data = InMemoryDataset.fromCsv(CsvFile.read(p, CsvFile.Options.labelNamed("label")), p);
        assertEquals(2, data.size());
        assertEquals(org.streamdl.tensor.Shape.of(2), data.sampleShape());
        assertEquals(2, data.label(1));
        Path fractional = csv("a,label\n1,0.5\n");
        DatasetFormatException e = assertThrows(DatasetFormatException.class, () -> InMemoryDataset.fromCsv(
                CsvFile.read(fractional, CsvFile.Options.labelNamed("label")), fractional));
        assertEquals(fractional + ": row 1: label 'label' is 0.5; class labels must be whole numbers from 0", e.getMessage());
    }

    @Test
    void refusesANonNumberNamingLineAndColumn() throws IOException {
        Path p = csv("a,label\n1,0\nx1,1\n");
        DatasetFormatException e = assertThrows(DatasetFormatException.class,
                () -> CsvFile.read(p, CsvFile.Options.labelNamed("label")));
        assertEquals(p + ": line 3, column 'a': 'x1' is not a number", e.getMessage());
    }

    @Test
    void refusesRaggedLinesAndNonFiniteValues() throws IOException {
        Path ragged = csv("a,b,label\n1,2,0\n1,0\n");
        assertEquals(ragged + ": line 3 has 2 fields, expected 3 (as in the header)",
                assertThrows(DatasetFormatException.class,
                        () -> CsvFile.read(ragged, CsvFile.Options.labelNamed("label"))).getMessage());
        Path nan = csv("a,label\nNaN,0\n");
        assertEquals(nan + ": line 2, column 'a': NaN is not a finite number",
                assertThrows(DatasetFormatException.class,
                        () -> CsvFile.read(nan, CsvFile.Options.labelNamed("label"))).getMessage());
    }

    @Test
    void refusesEmptyFilesAndMissingLabels() throws IOException {
        Path empty = csv("\n");
        assertEquals(empty + ": is empty", assertThrows(DatasetFormatException.class,
                () -> CsvFile.read(empty, CsvFile.Options.labelNamed("y"))).getMessage());
        Path noLabel = csv("a,b\n1,2\n");
        assertEquals(noLabel + ": has no label column 'y'; the header has [a, b]", assertThrows(DatasetFormatException.class,
                () -> CsvFile.read(noLabel, CsvFile.Options.labelNamed("y"))).getMessage());
        Path headerOnly = csv("a,y\n");
        assertEquals(headerOnly + ": has a header but no data lines", assertThrows(DatasetFormatException.class,
                () -> CsvFile.read(headerOnly, CsvFile.Options.labelNamed("y"))).getMessage());
    }
}
