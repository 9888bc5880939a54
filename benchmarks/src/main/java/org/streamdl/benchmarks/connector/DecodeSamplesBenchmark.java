package org.streamdl.benchmarks.connector;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.streamdl.flink.connector.decode.DecodeSamples;
import org.streamdl.flink.connector.formats.AvroSampleFormat;
import org.streamdl.flink.connector.formats.JsonSampleFormat;
import org.streamdl.flink.connector.formats.RecordException;
import org.streamdl.flink.connector.formats.SampleFormat;
import org.streamdl.flink.connector.formats.SampleSpec;
import org.streamdl.flink.connector.records.Origin;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;

/**
 * Decode + validate of Fashion-MNIST-shaped samples (784 float32 pixels and a class label) on one
 * thread: what one core of a scoring or training job spends per record before the model sees it.
 * JMH reports samples/s per core (the target is at least 250,000 for Avro). JSON is there to show
 * what the hand-typed format costs.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class DecodeSamplesBenchmark {
    private static final int RECORDS = 1024;

    @Param({"avro", "json"})
    public String format;

    private SampleFormat decoder;
    private final SampleSpec spec = SampleSpec.fashionMnist();
    private RawRecord[] records;
    private int next;

    @Setup
    public void encode() {
        decoder = format.equals("avro") ? new AvroSampleFormat() : new JsonSampleFormat();
        java.util.Random random = new java.util.Random(42);
        records = new RawRecord[RECORDS];
        for (int r = 0; r < RECORDS; r++) {
            float[] pixels = new float[784];
            for (int i = 0; i < pixels.length; i++) {
                pixels[i] = random.nextInt(256) / 255f;
            }
            Sample s = Sample.classified(TensorValue.ofFloats(pixels, 1, 28, 28), random.nextInt(10));
            byte[] bytes = format.equals("avro") ? AvroSampleFormat.encode(s) : json(pixels, s.labelClass());
            records[r] = new RawRecord(bytes, Origin.kafka("samples", 0, r), 1_700_000_000_000L + r);
        }
    }

    private static byte[] json(float[] pixels, int label) {
        StringBuilder b = new StringBuilder("{\"features\": [");
        for (int i = 0; i < pixels.length; i++) {
            b.append(i == 0 ? "" : ",").append(pixels[i]);
        }
        return b.append("], \"label\": ").append(label).append('}').toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    }

    @Benchmark
    public Sample decodeAndValidate() throws RecordException {
        RawRecord r = records[next];
        next = (next + 1) & (RECORDS - 1);
        return DecodeSamples.decode(decoder, spec, r);
    }
}
