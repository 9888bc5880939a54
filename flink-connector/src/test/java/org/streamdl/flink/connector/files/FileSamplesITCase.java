package org.streamdl.flink.connector.files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.streamdl.flink.connector.formats.CsvSampleFormat;
import org.streamdl.flink.connector.formats.SampleSpec;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.decode.DecodedSamples;
import org.streamdl.flink.connector.formats.IdxSampleFormat;
import org.streamdl.tensor.DType;
import org.junit.jupiter.api.Timeout;

/** File sources on a MiniCluster with two slots and generic (Kryo) types disabled. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)   // a stalled job fails here instead of hanging the build
class FileSamplesITCase {
    @RegisterExtension
    static final MiniClusterExtension CLUSTER = new MiniClusterExtension(new MiniClusterResourceConfiguration.Builder()
            .setNumberTaskManagers(1).setNumberSlotsPerTaskManager(2).build());

    @TempDir
    Path dir;

    static StreamExecutionEnvironment env() {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        return env;
    }

    static <T> List<T> drain(CloseableIterator<T> it) throws Exception {
        List<T> out = new ArrayList<>();
        try (it) {
            it.forEachRemaining(out::add);
        }
        return out;
    }

    @Test
    void idxSamplesArriveOnceEachAcrossParallelReaders() throws Exception {
        Path[] files = TestFiles.idxPair(dir, 2000, 2, 2, true);
        StreamExecutionEnvironment env = env();
        FileRecordSource source = FileRecordSource.idx(files[0].toString(), files[1].toString(), 256);
        SampleSpec spec = SampleSpec.builder().feature("input", DType.FLOAT32, 1, 2, 2).classLabel(10).build();
        DecodedSamples decoded = DecodedSamples.decode(
                env.fromSource(source, org.apache.flink.api.common.eventtime.WatermarkStrategy.noWatermarks(), "idx"),
                new IdxSampleFormat(), spec);
        DataStream.Collector<Sample> samples = new DataStream.Collector<>();
        DataStream.Collector<DeadLetter> dead = new DataStream.Collector<>();
        decoded.samples().collectAsync(samples);
        decoded.deadLetters().collectAsync(dead);
        env.execute("idx samples");

        List<Sample> got = drain(samples.getOutput());
        assertEquals(List.of(), drain(dead.getOutput()));
        assertEquals(2000, got.size());
        Set<Integer> firstPixels = new HashSet<>();
        for (Sample s : got) {
            float[] px = s.feature("input").toFloats();
            int i = Math.round(px[0] * 255); // record i starts with pixel i mod 256
            firstPixels.add(i);
            assertEquals((i + 1) % 256 / 255f, px[1], 1e-7);
        }
        assertEquals(256, firstPixels.size());
        Map<Integer, Long> perClass = new TreeMap<>();
        got.forEach(s -> perClass.merge(s.labelClass(), 1L, Long::sum));
        assertEquals(10, perClass.size());
        perClass.values().forEach(n -> assertEquals(200L, n));
    }

    @Test
    void everyCsvLineBecomesASampleOrADeadLetterNamingItsLine() throws Exception {
        Path csv = dir.resolve("fraud.csv");
        StringBuilder text = new StringBuilder("amount,age,label\n");
        int good = 0;
        for (int line = 2; line <= 3001; line++) {
            switch (line % 100) {
                case 7 -> text.append("12.5,abc,1\n");
                case 19 -> text.append("12.5,1\n");
                case 31 -> text.append("\n");
                case 53 -> text.append("NaN,3,0\n");
                case 77 -> text.append("1,2,5\n");
                default -> {
                    text.append(line).append(',').append(line % 13).append(',').append(line % 2).append('\n');
                    good++;
                }
            }
        }
        Files.writeString(csv, text);
        StreamExecutionEnvironment env = env();
        SampleSpec spec = SampleSpec.builder().feature("input", DType.FLOAT32, 2).classLabel(2).build();
        DecodedSamples decoded = FileSamples.csv(env, csv.toString(), true, CsvSampleFormat.labelLast(), spec);
        DataStream.Collector<Sample> samples = new DataStream.Collector<>();
        DataStream.Collector<DeadLetter> dead = new DataStream.Collector<>();
        decoded.samples().collectAsync(samples);
        decoded.deadLetters().collectAsync(dead);
        env.execute("csv samples");

        List<Sample> got = drain(samples.getOutput());
        List<DeadLetter> letters = drain(dead.getOutput());
        assertEquals(3000, got.size() + letters.size());
        assertEquals(good, got.size());
        assertEquals(150, letters.size());
        Map<String, String> expected = Map.of(
                "07", "csv column 2: expected a number, found 'abc'",
                "19", "csv record: expected 3 columns (2 features and a label), found 2",
                "31", "csv record: expected a sample, found an empty record",
                "53", "csv features.input: expected finite values, found NaN at element 0",
                "77", "csv label: expected a class index in [0, 2), found 5");
        for (DeadLetter d : letters) {
            String kind = String.format("%02d", d.origin().position() % 100);
            assertEquals(expected.get(kind), d.reason(), "line " + d.origin().position());
            assertEquals(csv.toString(), d.origin().name());
        }
    }

    @Test
    void genericTypesAreReallyOffSoKryoWouldBeCaught() {
        // The control: a type Flink can only serialize with Kryo must fail in these environments.
        StreamExecutionEnvironment env = env();
        Exception e = assertThrows(Exception.class,
                () -> env.fromData(new Object[] {new NotAPojo(1)}).map(x -> x).executeAndCollect(1));
        assertTrue(String.valueOf(e.getMessage() + e.getCause()).contains("Generic types have been disabled"), e.toString());
    }

    static final class NotAPojo {
        final int value;

        NotAPojo(int value) {
            this.value = value;
        }
    }
}
