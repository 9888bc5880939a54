package org.streamdl.flink.connector.formats;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.streamdl.flink.connector.records.DeadLetter;
import org.streamdl.flink.connector.records.ModelSnapshot;
import org.streamdl.flink.connector.records.Origin;
import org.streamdl.flink.connector.records.Prediction;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;

/**
 * Predictions, dead letters and model snapshots as Avro single-object encoded messages (the form StreamDL writes
 * to Kafka), through Avro's generic API: these leave a job once per record and are not on the
 * decoding hot path that {@link AvroSampleFormat} is.
 */
public final class AvroRecords {
    private static final BinaryMessageEncoder<GenericRecord> PREDICTION_ENCODER =
            new BinaryMessageEncoder<>(GenericData.get(), AvroSchemas.PREDICTION);
    private static final BinaryMessageDecoder<GenericRecord> PREDICTION_DECODER =
            new BinaryMessageDecoder<>(GenericData.get(), AvroSchemas.PREDICTION);
    private static final BinaryMessageEncoder<GenericRecord> DEAD_LETTER_ENCODER =
            new BinaryMessageEncoder<>(GenericData.get(), AvroSchemas.DEAD_LETTER);
    private static final BinaryMessageDecoder<GenericRecord> DEAD_LETTER_DECODER =
            new BinaryMessageDecoder<>(GenericData.get(), AvroSchemas.DEAD_LETTER);

    private static final BinaryMessageEncoder<GenericRecord> MODEL_SNAPSHOT_ENCODER =
            new BinaryMessageEncoder<>(GenericData.get(), AvroSchemas.MODEL_SNAPSHOT);
    private static final BinaryMessageDecoder<GenericRecord> MODEL_SNAPSHOT_DECODER =
            new BinaryMessageDecoder<>(GenericData.get(), AvroSchemas.MODEL_SNAPSHOT);

    private AvroRecords() {}

    public static byte[] encode(Prediction p) {
        Schema schema = AvroSchemas.PREDICTION;
        GenericRecord r = new GenericData.Record(schema);
        r.put("key", p.key());
        r.put("outputs", namedTensors(p.outputs(), schema.getField("outputs").schema()));
        r.put("predictedClass", p.isClassification() ? p.predictedClass() : null);
        r.put("score", Float.isNaN(p.score()) ? null : p.score());
        r.put("modelVersion", p.modelVersion());
        r.put("eventTime", p.eventTime() == Sample.NO_TIME ? null : p.eventTime());
        r.put("receivedAt", p.receivedAt());
        r.put("predictedAt", p.predictedAt());
        return encode(PREDICTION_ENCODER, r);
    }

    public static Prediction decodePrediction(byte[] message) throws RecordException {
        GenericRecord r = decode(PREDICTION_DECODER, message, "Prediction");
        Map<String, TensorValue> outputs = new LinkedHashMap<>();
        for (Object item : (List<?>) r.get("outputs")) {
            GenericRecord named = (GenericRecord) item;
            String name = named.get("name").toString();
            outputs.put(name, tensor((GenericRecord) named.get("tensor"), "outputs." + name));
        }
        Object key = r.get("key");
        Object predictedClass = r.get("predictedClass");
        Object score = r.get("score");
        Object eventTime = r.get("eventTime");
        return new Prediction(key == null ? null : key.toString(), outputs,
                predictedClass == null ? Sample.NO_CLASS : (Integer) predictedClass,
                score == null ? Float.NaN : (Float) score, (Long) r.get("modelVersion"),
                eventTime == null ? Sample.NO_TIME : (Long) eventTime, (Long) r.get("receivedAt"), (Long) r.get("predictedAt"));
    }

    public static byte[] encode(DeadLetter d) {
        GenericRecord r = new GenericData.Record(AvroSchemas.DEAD_LETTER);
        r.put("payload", ByteBuffer.wrap(d.payload()));
        r.put("originKind", d.origin().kind().name());
        r.put("originName", d.origin().name());
        r.put("partition", d.origin().partition());
        r.put("position", d.origin().position());
        r.put("reason", d.reason());
        r.put("failedAt", d.failedAt());
        return encode(DEAD_LETTER_ENCODER, r);
    }

    public static DeadLetter decodeDeadLetter(byte[] message) throws RecordException {
        GenericRecord r = decode(DEAD_LETTER_DECODER, message, "DeadLetter");
        Origin.Kind kind;
        try {
            kind = Origin.Kind.valueOf(r.get("originKind").toString());
        } catch (IllegalArgumentException e) {
            throw new RecordException("originKind: expected KAFKA, FILE or OTHER, found " + r.get("originKind"));
        }
        return new DeadLetter(bytes((ByteBuffer) r.get("payload")),
                new Origin(kind, r.get("originName").toString(), (Integer) r.get("partition"), (Long) r.get("position")),
                r.get("reason").toString(), (Long) r.get("failedAt"));
    }

    public static byte[] encode(ModelSnapshot m) {
        GenericRecord r = new GenericData.Record(AvroSchemas.MODEL_SNAPSHOT);
        r.put("modelName", m.modelName());
        r.put("version", m.version());
        r.put("samplesApplied", m.samplesApplied());
        r.put("createdAt", m.createdAt());
        r.put("modelFile", ByteBuffer.wrap(m.modelFile()));
        return encode(MODEL_SNAPSHOT_ENCODER, r);
    }

    public static ModelSnapshot decodeModelSnapshot(byte[] message) throws RecordException {
        GenericRecord r = decode(MODEL_SNAPSHOT_DECODER, message, "ModelSnapshot");
        try {
            return new ModelSnapshot(r.get("modelName").toString(), (Long) r.get("version"), (Long) r.get("samplesApplied"),
                    (Long) r.get("createdAt"), bytes((ByteBuffer) r.get("modelFile")));
        } catch (IllegalArgumentException e) {
            throw new RecordException("model snapshot: " + e.getMessage(), e);
        }
    }

    private static List<GenericRecord> namedTensors(Map<String, TensorValue> tensors, Schema arraySchema) {
        Schema namedSchema = arraySchema.getElementType();
        Schema tensorSchema = namedSchema.getField("tensor").schema();
        List<GenericRecord> out = new ArrayList<>(tensors.size());
        for (Map.Entry<String, TensorValue> e : tensors.entrySet()) {
            TensorValue t = e.getValue();
            GenericRecord tensor = new GenericData.Record(tensorSchema);
            tensor.put("dtype", t.dtype().toString());
            List<Long> shape = new ArrayList<>();
            for (long d : t.shape()) {
                shape.add(d);
            }
            tensor.put("shape", shape);
            tensor.put("data", ByteBuffer.wrap(t.bytes()));
            GenericRecord named = new GenericData.Record(namedSchema);
            named.put("name", e.getKey());
            named.put("tensor", tensor);
            out.add(named);
        }
        return out;
    }

    private static TensorValue tensor(GenericRecord t, String field) throws RecordException {
        List<?> dims = (List<?>) t.get("shape");
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = (Long) dims.get(i);
        }
        return AvroSampleFormat.tensor(AvroSampleFormat.dtypeOf(t.get("dtype").toString(), field), shape,
                bytes((ByteBuffer) t.get("data")), field);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static byte[] encode(BinaryMessageEncoder<GenericRecord> encoder, GenericRecord r) {
        try {
            ByteBuffer b = encoder.encode(r);
            return bytes(b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static GenericRecord decode(BinaryMessageDecoder<GenericRecord> decoder, byte[] message, String type)
            throws RecordException {
        AvroSchemas.readHeader(message);
        try {
            return decoder.decode(message);
        } catch (IOException | RuntimeException e) {
            throw new RecordException("record: not a " + type + " message of a known schema", e);
        }
    }
}
