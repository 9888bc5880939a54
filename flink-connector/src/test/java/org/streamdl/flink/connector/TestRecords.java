package org.streamdl.flink.connector;

import java.util.LinkedHashMap;
import java.util.Map;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.connector.records.Origin;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.tensor.DType;

/** Small records with every field used, for round-trip tests. */
public final class TestRecords {
    private TestRecords() {}

    public static float[] ramp(int n, float scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (i - n / 2f) * scale;
        }
        return v;
    }

    public static Sample image(int label, float scale) {
        return Sample.classified(TensorValue.ofFloats(ramp(784, scale), 1, 28, 28), label);
    }

    public static Sample[] samples() {
        return new Sample[] {
            image(3, 0.001f),
            Sample.builder().key("tx-1")
                    .feature("amount", TensorValue.ofFloats(new float[] {12.5f}, 1))
                    .feature("ids", TensorValue.of(DType.INT32, new long[] {2}, new byte[] {1, 0, 0, 0, 2, 0, 0, 0}))
                    .labelTensor(TensorValue.ofFloats(new float[] {0.5f, -1f}, 2))
                    .weight(2.5f).eventTime(1_700_000_000_000L).build(),
            Sample.builder().feature("empty", TensorValue.ofFloats(new float[0], 0, 4)).build(),
            Sample.builder().key("").feature("u8", TensorValue.of(DType.UINT8, new long[] {3}, new byte[] {0, (byte) 255, 7}))
                    .labelClass(0).eventTime(-5).build(),
        };
    }

    public static Prediction prediction(String key, int cls) {
        Map<String, TensorValue> outputs = new LinkedHashMap<>();
        outputs.put("logits", TensorValue.ofFloats(ramp(10, 0.5f), 10));
        return new Prediction(key, outputs, cls, 0.75f, 42, 1000, 1001, 1003);
    }

    public static Prediction[] predictions() {
        return new Prediction[] {
            prediction("a", 7),
            prediction(null, Sample.NO_CLASS),
            new Prediction("r", Map.of(), Sample.NO_CLASS, Float.NaN, 0, Sample.NO_TIME, 5, 6),
        };
    }

    public static DeadLetter[] deadLetters() {
        return new DeadLetter[] {
            new DeadLetter(new byte[] {1, 2, 3}, Origin.kafka("samples", 2, 1234), "avro features.input: expected shape [1, 28, 28], found [784]", 99),
            new DeadLetter(new byte[0], Origin.file("/data/x.csv", 17), "csv record: expected a sample, found an empty record", 100),
            new DeadLetter(new byte[] {9}, Origin.other("test"), "", 0),
        };
    }

    public static ModelSnapshot[] modelSnapshots() {
        byte[] big = new byte[3 << 20];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31);
        }
        return new ModelSnapshot[] {
            new ModelSnapshot("lenet5", 0, 0, 1, new byte[] {'S', 'D', 'L', 'M'}),
            new ModelSnapshot("mlp", 12, 1536, 1_700_000_000_000L, big),
        };
    }
}
