package org.streamdl.flink.connector.formats;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.message.BinaryMessageDecoder;
import org.streamdl.flink.connector.records.RawRecord;
import org.streamdl.flink.connector.records.Sample;
import org.streamdl.flink.connector.records.TensorValue;
import org.streamdl.tensor.DType;

/**
 * Samples as Avro binary with single-object encoding: {@code C3 01}, the writer schema's 8-byte
 * fingerprint, then the record. Records written with the current {@code Sample.avsc} are read by a
 * direct, allocation-light reader; records written with an older schema that the reader was told
 * about ({@link #withWriterSchemas}) go through Avro's schema resolution. Anything else is a
 * {@link RecordException} naming the field.
 */
public final class AvroSampleFormat implements SampleFormat {
    private static final long serialVersionUID = 1L;
    private static final long CURRENT = AvroSchemas.fingerprint(AvroSchemas.SAMPLE);

    private final List<String> olderWriterSchemas;
    private transient BinaryMessageDecoder<GenericRecord> resolving;

    public AvroSampleFormat() {
        this(List.of());
    }

    private AvroSampleFormat(List<String> olderWriterSchemas) {
        this.olderWriterSchemas = List.copyOf(olderWriterSchemas);
    }

    /** A format that also reads records written with these (older) schemas. */
    public AvroSampleFormat withWriterSchemas(Schema... schemas) {
        List<String> all = new ArrayList<>(olderWriterSchemas);
        for (Schema s : schemas) {
            all.add(s.toString());
        }
        return new AvroSampleFormat(all);
    }

    @Override
    public String name() {
        return "avro";
    }

    @Override
    public Sample decode(RawRecord record, SampleSpec spec) throws RecordException {
        byte[] message = record.payload();
        spec.checkRecordSize(message.length);
        long fingerprint = AvroSchemas.readHeader(message);
        if (fingerprint == CURRENT) {
            return read(new AvroReader(message, AvroSchemas.HEADER_BYTES, message.length));
        }
        return decodeResolving(message, fingerprint);
    }

    /** Encodes a sample with the current schema. */
    public static byte[] encode(Sample s) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256 + bytesOf(s));
        out.writeBytes(new byte[AvroSchemas.HEADER_BYTES]);
        try {
            BinaryEncoder e = EncoderFactory.get().directBinaryEncoder(out, null);
            writeOptionalString(e, s.key());
            e.writeArrayStart();
            e.setItemCount(s.features().size());
            for (Map.Entry<String, TensorValue> f : s.features().entrySet()) {
                e.startItem();
                e.writeString(f.getKey());
                writeTensor(e, f.getValue());
            }
            e.writeArrayEnd();
            if (s.hasClassLabel()) {
                e.writeIndex(1);
                e.writeInt(s.labelClass());
            } else if (s.labelTensor() != null) {
                e.writeIndex(2);
                writeTensor(e, s.labelTensor());
            } else {
                e.writeIndex(0);
            }
            e.writeFloat(s.weight());
            if (s.eventTime() == Sample.NO_TIME) {
                e.writeIndex(0);
            } else {
                e.writeIndex(1);
                e.writeLong(s.eventTime());
            }
            e.flush();
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
        byte[] bytes = out.toByteArray();
        AvroSchemas.writeHeader(CURRENT, bytes);
        return bytes;
    }

    private static int bytesOf(Sample s) {
        int n = 0;
        for (TensorValue t : s.features().values()) {
            n += t.bytes().length;
        }
        return n;
    }

    static void writeOptionalString(BinaryEncoder e, String s) throws IOException {
        if (s == null) {
            e.writeIndex(0);
        } else {
            e.writeIndex(1);
            e.writeString(s);
        }
    }

    static void writeTensor(BinaryEncoder e, TensorValue t) throws IOException {
        e.writeString(t.dtype().toString());
        e.writeArrayStart();
        e.setItemCount(t.rank());
        for (int i = 0; i < t.rank(); i++) {
            e.startItem();
            e.writeLong(t.dim(i));
        }
        e.writeArrayEnd();
        e.writeBytes(t.bytes());
    }

    private static Sample read(AvroReader in) throws RecordException {
        Sample.Builder b = Sample.builder();
        if (in.readUnionIndex("key", 2) == 1) {
            b.key(in.readString("key"));
        }
        int index = 0;
        for (long n = in.readBlockCount("features", 4); n != 0; n = in.readBlockCount("features", 4)) {
            for (long i = 0; i < n; i++, index++) {
                String name = in.readString("features[" + index + "].name");
                String field = "features." + name;
                TensorValue t = readTensor(in, field);
                try {
                    b.feature(name, t);
                } catch (IllegalArgumentException e) {
                    throw new RecordException(field + ": " + e.getMessage());
                }
            }
        }
        switch (in.readUnionIndex("label", 3)) {
            case 1 -> {
                int c = in.readInt("label");
                if (c < 0) {
                    throw new RecordException("label: expected a class index >= 0, found " + c);
                }
                b.labelClass(c);
            }
            case 2 -> b.labelTensor(readTensor(in, "label"));
            default -> { }
        }
        float weight = in.readFloat("weight");
        if (!(weight >= 0) || Float.isInfinite(weight)) {
            throw new RecordException("weight: expected a finite value >= 0, found " + weight);
        }
        b.weight(weight);
        if (in.readUnionIndex("eventTime", 2) == 1) {
            b.eventTime(in.readLong("eventTime"));
        }
        if (!in.atEnd()) {
            throw new RecordException("record: expected its end after eventTime, found " + in.remaining() + " more bytes");
        }
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new RecordException("features: " + e.getMessage());
        }
    }

    private static TensorValue readTensor(AvroReader in, String field) throws RecordException {
        String dtypeName = in.readString(field + ".dtype");
        DType dtype = dtypeOf(dtypeName, field);
        long[] shape = new long[0];
        int rank = 0;
        for (long n = in.readBlockCount(field + ".shape", 1); n != 0; n = in.readBlockCount(field + ".shape", 1)) {
            if (rank + n > 32) {
                throw new RecordException(field + ".shape: expected rank at most 32, found " + (rank + n));
            }
            shape = java.util.Arrays.copyOf(shape, (int) (rank + n));
            for (long i = 0; i < n; i++) {
                long d = in.readLong(field + ".shape");
                if (d < 0) {
                    throw new RecordException(field + ".shape: expected extents >= 0, found " + d);
                }
                shape[rank++] = d;
            }
        }
        byte[] data = in.readBytes(field + ".data");
        return tensor(dtype, shape, data, field);
    }

    static DType dtypeOf(String name, String field) throws RecordException {
        try {
            return DType.fromName(name);
        } catch (IllegalArgumentException e) {
            throw new RecordException(field + ".dtype: " + e.getMessage());
        }
    }

    static TensorValue tensor(DType dtype, long[] shape, byte[] data, String field) throws RecordException {
        try {
            return TensorValue.of(dtype, shape, data);
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new RecordException(field + ".data: " + e.getMessage());
        }
    }

    private Sample decodeResolving(byte[] message, long fingerprint) throws RecordException {
        if (resolving == null) {
            resolving = new BinaryMessageDecoder<>(GenericData.get(), AvroSchemas.SAMPLE);
            for (String json : olderWriterSchemas) {
                resolving.addSchema(new Schema.Parser().parse(json));
            }
        }
        GenericRecord r;
        try {
            r = resolving.decode(message);
        } catch (org.apache.avro.message.MissingSchemaException e) {
            throw new RecordException(String.format("header: expected the fingerprint of a known Sample schema (%016X), "
                    + "found %016X", CURRENT, fingerprint));
        } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException e) {
            throw new RecordException("record: cannot be read with its writer schema", e);
        }
        return fromGeneric(r);
    }

    /** Converts a record of the current schema, as Avro's generic API gives it. */
    static Sample fromGeneric(GenericRecord r) throws RecordException {
        Sample.Builder b = Sample.builder();
        Object key = r.get("key");
        if (key != null) {
            b.key(key.toString());
        }
        for (Object item : (List<?>) r.get("features")) {
            GenericRecord named = (GenericRecord) item;
            String name = named.get("name").toString();
            b.feature(name, genericTensor((GenericRecord) named.get("tensor"), "features." + name));
        }
        Object label = r.get("label");
        if (label instanceof Integer c) {
            if (c < 0) {
                throw new RecordException("label: expected a class index >= 0, found " + c);
            }
            b.labelClass(c);
        } else if (label instanceof GenericRecord t) {
            b.labelTensor(genericTensor(t, "label"));
        }
        float weight = (Float) r.get("weight");
        if (!(weight >= 0) || Float.isInfinite(weight)) {
            throw new RecordException("weight: expected a finite value >= 0, found " + weight);
        }
        b.weight(weight);
        Object time = r.get("eventTime");
        if (time instanceof Long t) {
            b.eventTime(t);
        }
        return b.build();
    }

    private static TensorValue genericTensor(GenericRecord t, String field) throws RecordException {
        DType dtype = dtypeOf(t.get("dtype").toString(), field);
        List<?> dims = (List<?>) t.get("shape");
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = (Long) dims.get(i);
        }
        ByteBuffer data = (ByteBuffer) t.get("data");
        byte[] bytes = new byte[data.remaining()];
        data.duplicate().get(bytes);
        return tensor(dtype, shape, bytes, field);
    }
}
