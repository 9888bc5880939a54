package org.streamdl.dnn.model;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.streamdl.dnn.Kernels;
import org.streamdl.dnn.Parameter;
import org.streamdl.dnn.ParameterFactory;
import org.streamdl.dnn.layers.Layer;
import org.streamdl.dnn.layers.LayerConfig;
import org.streamdl.dnn.layers.LayerRegistry;
import org.streamdl.tensor.Allocator;
import org.streamdl.tensor.DType;
import org.streamdl.tensor.Shape;
import org.streamdl.tensor.Tensor;

/**
 * The StreamDL model file. Layout, little-endian:
 *
 * <pre>
 * "SDLM"  format version (uint16)  reserved (uint16)  header length (uint32)
 * header  (Avro binary, schema model-header-v1.avsc: architecture, tensor directory with name,
 *          kind, dtype, shape, offset, length and CRC-32, quantization scales, provenance)
 * tensor data, each tensor 64-byte aligned
 * </pre>
 *
 * The reader checks the magic, the version, every directory entry against the file's length and
 * the architecture's shapes, before it allocates any tensor; it verifies each tensor's checksum as
 * it reads it. It never uses Java object serialization. Writes go to a temporary file that replaces
 * the target atomically, so a crash never leaves half a model.
 */
public final class ModelFile {
    public static final int FORMAT_VERSION = 1;
    public static final String STREAMDL_VERSION = "0.1.0";
    static final byte[] MAGIC = {'S', 'D', 'L', 'M'};
    static final int PREAMBLE_BYTES = 12;
    static final int MAX_HEADER_BYTES = 16 << 20;
    static final int ALIGNMENT = 64;
    static final Schema SCHEMA = loadSchema();

    private ModelFile() {}

    /** What a file holds besides the network: optimizer state and provenance. */
    public record Contents(Model model, Map<String, Tensor> optimizerState, Map<String, String> provenance,
                           Map<String, float[]> quantization) {}

    private static Schema loadSchema() {
        try (var in = ModelFile.class.getResourceAsStream("model-header-v1.avsc")) {
            return new Schema.Parser().parse(in);
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("the model-file schema is missing from the engine-dnn jar", e);
        }
    }

    /** Writes the model's parameters (and the optimizer state, if given) with provenance. */
    public static void write(Path file, Model model, Map<String, Tensor> optimizerState, Map<String, String> provenance)
            throws IOException {
        Encoded encoded = encode(model, optimizerState, provenance);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            encoded.emit((data, position) -> writeFully(out, data, position));
            out.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * The bytes {@link #write} would put in a file, for model files that travel as records (model
     * snapshots in a stream) rather than files; nothing touches the disk.
     */
    public static byte[] toBytes(Model model, Map<String, Tensor> optimizerState, Map<String, String> provenance)
            throws IOException {
        Encoded encoded = encode(model, optimizerState, provenance);
        if (encoded.length() > Integer.MAX_VALUE - 16) {
            throw new IOException("model '" + model + "' needs " + encoded.length()
                    + " bytes, more than a Java array holds; write it to a file instead");
        }
        byte[] bytes = new byte[(int) encoded.length()];
        encoded.emit((data, position) -> data.get(bytes, (int) position, data.remaining()));
        return bytes;
    }

    @FunctionalInterface
    private interface PositionalSink {
        void write(ByteBuffer data, long position) throws IOException;
    }

    /** A model file laid out: its header and where each tensor's data goes. */
    private record Encoded(Model model, List<Map.Entry<String, Tensor>> tensors, long[] offsets, byte[] header,
                           long length) {
        void emit(PositionalSink out) throws IOException {
            ByteBuffer preamble = ByteBuffer.allocate(PREAMBLE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            preamble.put(MAGIC).putShort((short) FORMAT_VERSION).putShort((short) 0).putInt(header.length).flip();
            out.write(preamble, 0);
            out.write(ByteBuffer.wrap(header), PREAMBLE_BYTES);
            for (int i = 0; i < tensors.size(); i++) {
                Tensor t = tensors.get(i).getValue().contiguous(model.allocator());
                ByteBuffer data = t.buffer().duplicate();
                data.position((int) (t.offset() * t.dtype().byteSize())).limit(data.position() + (int) byteLength(t));
                out.write(data, offsets[i]);
            }
        }
    }

    private static Encoded encode(Model model, Map<String, Tensor> optimizerState, Map<String, String> provenance)
            throws IOException {
        List<Map.Entry<String, Tensor>> tensors = new ArrayList<>();
        List<String> kinds = new ArrayList<>();
        for (Parameter p : model.parameters()) {
            tensors.add(Map.entry(p.name(), p.value()));
            kinds.add("parameter");
        }
        for (Map.Entry<String, Tensor> e : model.buffers().entrySet()) {
            tensors.add(e);
            kinds.add("buffer");
        }
        for (Map.Entry<String, Tensor> e : optimizerState.entrySet()) {
            tensors.add(e);
            kinds.add("optimizer");
        }
        // offsets are varints inside the header whose length they depend on: place the data after
        // the longest header any offsets could give (every offset at its widest encoding)
        long[] offsets = new long[tensors.size()];
        long[] crcs = new long[tensors.size()];
        for (int i = 0; i < tensors.size(); i++) {
            crcs[i] = crc(tensors.get(i).getValue());
            offsets[i] = Long.MAX_VALUE;
        }
        long at = align(PREAMBLE_BYTES + header(model, tensors, kinds, offsets, crcs, provenance).length);
        long end = at;
        for (int i = 0; i < tensors.size(); i++) {
            offsets[i] = at;
            end = at + byteLength(tensors.get(i).getValue());
            at = align(end);
        }
        byte[] header = header(model, tensors, kinds, offsets, crcs, provenance);
        return new Encoded(model, tensors, offsets, header, tensors.isEmpty() ? PREAMBLE_BYTES + header.length : end);
    }

    public static void write(Path file, Model model, Map<String, String> provenance) throws IOException {
        write(file, model, Map.of(), provenance);
    }

    private static byte[] header(Model model, List<Map.Entry<String, Tensor>> tensors, List<String> kinds, long[] offsets,
                                 long[] crcs, Map<String, String> provenance) throws IOException {
        GenericRecord header = new GenericData.Record(SCHEMA);
        header.put("streamdlVersion", STREAMDL_VERSION);
        header.put("architecture", toRecord(model.network().config()));
        Schema entrySchema = SCHEMA.getField("tensors").schema().getElementType();
        List<GenericRecord> entries = new ArrayList<>();
        for (int i = 0; i < tensors.size(); i++) {
            Tensor t = tensors.get(i).getValue();
            GenericRecord e = new GenericData.Record(entrySchema);
            e.put("name", tensors.get(i).getKey());
            e.put("kind", kinds.get(i));
            e.put("dtype", t.dtype().toString());
            List<Long> shape = new ArrayList<>();
            for (long d : t.shape().dims()) {
                shape.add(d);
            }
            e.put("shape", shape);
            e.put("offset", offsets[i]);
            e.put("length", byteLength(t));
            e.put("crc32", crcs[i]);
            entries.add(e);
        }
        header.put("tensors", entries);
        header.put("quantization", Map.of());
        header.put("provenance", new HashMap<>(provenance));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(bytes, null);
        new GenericDatumWriter<GenericRecord>(SCHEMA).write(header, encoder);
        encoder.flush();
        return bytes.toByteArray();
    }

    private static GenericRecord toRecord(LayerConfig config) {
        Schema schema = SCHEMA.getField("architecture").schema();
        GenericRecord r = new GenericData.Record(schema);
        r.put("type", config.type());
        r.put("name", config.name());
        r.put("attributes", new HashMap<>(config.attributes()));
        List<GenericRecord> children = new ArrayList<>();
        for (LayerConfig child : config.children()) {
            children.add(toRecord(child));
        }
        r.put("children", children);
        return r;
    }

    /** Reads a model file into a new model running on {@code kernels}. */
    public static Contents read(Path file, Kernels kernels) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(file, "no such file");
        }
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = in.size();
            if (size < PREAMBLE_BYTES) {
                throw new ModelFormatException(file, "is " + size + " bytes long, shorter than a model file's "
                        + PREAMBLE_BYTES + "-byte preamble");
            }
            ByteBuffer preamble = ByteBuffer.allocate(PREAMBLE_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            readFully(in, preamble, 0, file);
            preamble.flip();
            byte[] magic = new byte[4];
            preamble.get(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new ModelFormatException(file, "is not a StreamDL model file (magic "
                        + String.format("%02x%02x%02x%02x", magic[0], magic[1], magic[2], magic[3]) + ", expected 53444c4d \"SDLM\")");
            }
            int version = Short.toUnsignedInt(preamble.getShort());
            if (version > FORMAT_VERSION) {
                throw new ModelFormatException(file, "format version " + version + " is newer than this reader, which reads 1.."
                        + FORMAT_VERSION + "; upgrade StreamDL");
            }
            if (version == 0) {
                throw new ModelFormatException(file, "format version 0 does not exist");
            }
            preamble.getShort();
            long headerLength = Integer.toUnsignedLong(preamble.getInt());
            if (headerLength > MAX_HEADER_BYTES || PREAMBLE_BYTES + headerLength > size) {
                throw new ModelFormatException(file, "header claims " + headerLength + " bytes but the file has "
                        + (size - PREAMBLE_BYTES) + " after the preamble (limit " + MAX_HEADER_BYTES + ")");
            }
            ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
            readFully(in, headerBytes, PREAMBLE_BYTES, file);
            GenericRecord header = decode(file, headerBytes.array());
            LayerConfig architecture = toConfig(file, (GenericRecord) header.get("architecture"), 0);
            List<Entry> entries = entries(file, header, size, PREAMBLE_BYTES + headerLength);
            return load(file, in, header, architecture, entries, kernels);
        }
    }

    private record Entry(String name, String kind, DType dtype, Shape shape, long offset, long length, long crc32) {}

    private static GenericRecord decode(Path file, byte[] bytes) throws ModelFormatException {
        try {
            BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, null);
            GenericRecord header = new BoundedReader(bytes.length).read(null, decoder);
            if (!decoder.isEnd()) {
                throw new ModelFormatException(file, "header has bytes after its last field");
            }
            return header;
        } catch (IOException | RuntimeException e) {
            // any decode failure is corruption: Avro signals absurd counts with several exception types
            throw new ModelFormatException(file, "header is not a valid model header: " + e.getMessage(), e);
        }
    }

    /**
     * Avro's reader sizes a collection by the count the data claims; a corrupted count must not
     * allocate more than the header's bytes could hold (every item takes at least one byte).
     */
    private static final class BoundedReader extends GenericDatumReader<GenericRecord> {
        private final int maxItems;

        BoundedReader(int headerBytes) {
            super(SCHEMA);
            this.maxItems = headerBytes;
        }

        @Override
        protected Object newArray(Object old, int size, Schema schema) {
            return super.newArray(old, Math.min(size, maxItems), schema);
        }

        @Override
        protected Object newMap(Object old, int size) {
            return super.newMap(old, Math.min(size, maxItems));
        }
    }

    private static LayerConfig toConfig(Path file, GenericRecord r, int depth) throws ModelFormatException {
        if (depth > 64) {
            throw new ModelFormatException(file, "architecture nests more than 64 levels deep");
        }
        Map<String, String> attributes = new LinkedHashMap<>();
        @SuppressWarnings("unchecked")
        Map<Object, Object> raw = (Map<Object, Object>) r.get("attributes");
        for (Map.Entry<Object, Object> e : raw.entrySet()) {
            attributes.put(e.getKey().toString(), e.getValue().toString());
        }
        List<LayerConfig> children = new ArrayList<>();
        for (Object child : (List<?>) r.get("children")) {
            children.add(toConfig(file, (GenericRecord) child, depth + 1));
        }
        return new LayerConfig(r.get("type").toString(), r.get("name").toString(), attributes, children);
    }

    private static List<Entry> entries(Path file, GenericRecord header, long fileSize, long dataStart)
            throws ModelFormatException {
        List<Entry> entries = new ArrayList<>();
        for (Object o : (List<?>) header.get("tensors")) {
            GenericRecord e = (GenericRecord) o;
            String name = e.get("name").toString();
            DType dtype;
            try {
                dtype = DType.fromName(e.get("dtype").toString());
            } catch (IllegalArgumentException ex) {
                throw new ModelFormatException(file, "tensor '" + name + "': " + ex.getMessage());
            }
            List<?> dims = (List<?>) e.get("shape");
            long[] d = new long[dims.size()];
            for (int i = 0; i < d.length; i++) {
                d[i] = (Long) dims.get(i);
            }
            Shape shape;
            long expectedLength;
            try {
                shape = Shape.of(d);
                expectedLength = Math.multiplyExact(shape.elementCount(), (long) dtype.byteSize());
            } catch (IllegalArgumentException | ArithmeticException ex) {
                throw new ModelFormatException(file, "tensor '" + name + "' has an impossible shape "
                        + java.util.Arrays.toString(d) + ": " + ex.getMessage());
            }
            long offset = (Long) e.get("offset");
            long length = (Long) e.get("length");
            if (length != expectedLength) {
                throw new ModelFormatException(file, "tensor '" + name + "' is " + dtype + " " + shape + ", which needs "
                        + expectedLength + " bytes, but the directory says " + length);
            }
            if (offset < dataStart || offset > fileSize || length > fileSize - offset) {
                throw new ModelFormatException(file, "tensor '" + name + "' claims bytes [" + offset + ", "
                        + (offset + length) + ") but the data section is [" + dataStart + ", " + fileSize
                        + "): the file is truncated or corrupted");
            }
            entries.add(new Entry(name, e.get("kind").toString(), dtype, shape, offset, length, (Long) e.get("crc32")));
        }
        return entries;
    }

    private static Contents load(Path file, FileChannel in, GenericRecord header, LayerConfig architecture,
                                 List<Entry> entries, Kernels kernels) throws IOException {
        Allocator allocator = Model.newMemory(architecture.name());
        try {
            Layer network;
            try {
                network = LayerRegistry.build(architecture, new ParameterFactory(allocator, 0));
            } catch (IllegalArgumentException e) {
                throw new ModelFormatException(file, "architecture: " + e.getMessage(), e);
            }
            Model model = new Model(network, allocator, kernels);
            Map<String, Entry> byName = new HashMap<>();
            for (Entry e : entries) {
                if (byName.put(e.name(), e) != null) {
                    throw new ModelFormatException(file, "tensor '" + e.name() + "' appears twice in the directory");
                }
                if (e.kind().equals("parameter")) {
                    try {
                        model.parameter(e.name());
                    } catch (IllegalArgumentException ex) {
                        throw new ModelFormatException(file, "tensor '" + e.name()
                                + "' is not a parameter of the architecture");
                    }
                } else if (e.kind().equals("buffer") && !model.buffers().containsKey(e.name())) {
                    throw new ModelFormatException(file, "tensor '" + e.name() + "' is not a buffer of the architecture");
                } else if (!List.of("parameter", "buffer", "optimizer").contains(e.kind())) {
                    throw new ModelFormatException(file, "tensor '" + e.name() + "' has unknown kind '" + e.kind() + "'");
                }
            }
            for (Parameter p : model.parameters()) {
                Entry e = byName.get(p.name());
                if (e == null || !e.kind().equals("parameter")) {
                    throw new ModelFormatException(file, "the architecture's parameter '" + p.name()
                            + "' has no tensor in the directory");
                }
                if (!e.shape().equals(p.value().shape()) || e.dtype() != p.value().dtype()) {
                    throw new ModelFormatException(file, "tensor '" + p.name() + "' is " + e.dtype() + " " + e.shape()
                            + " in the directory but the architecture expects " + p.value().dtype() + " " + p.value().shape());
                }
            }
            for (Map.Entry<String, Tensor> b : model.buffers().entrySet()) {
                Entry e = byName.get(b.getKey());
                if (e == null || !e.kind().equals("buffer") || !e.shape().equals(b.getValue().shape())
                        || e.dtype() != b.getValue().dtype()) {
                    throw new ModelFormatException(file, "the architecture's buffer '" + b.getKey() + "' ("
                            + b.getValue().dtype() + " " + b.getValue().shape() + ") has no matching tensor in the directory");
                }
            }
            for (Parameter p : model.parameters()) {
                readTensor(file, in, byName.get(p.name()), p.value());
            }
            for (Map.Entry<String, Tensor> b : model.buffers().entrySet()) {
                readTensor(file, in, byName.get(b.getKey()), b.getValue());
            }
            Map<String, Tensor> optimizerState = new LinkedHashMap<>();
            for (Entry e : entries) {
                if (e.kind().equals("optimizer")) {
                    Tensor t = allocator.allocateUninitialized(e.dtype(), e.shape());
                    readTensor(file, in, e, t);
                    optimizerState.put(e.name(), t);
                }
            }
            Map<String, String> provenance = new LinkedHashMap<>();
            for (Map.Entry<?, ?> p : ((Map<?, ?>) header.get("provenance")).entrySet()) {
                provenance.put(p.getKey().toString(), p.getValue().toString());
            }
            Map<String, float[]> quantization = new LinkedHashMap<>();
            for (Map.Entry<?, ?> q : ((Map<?, ?>) header.get("quantization")).entrySet()) {
                List<?> values = (List<?>) q.getValue();
                float[] v = new float[values.size()];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (Float) values.get(i);
                }
                quantization.put(q.getKey().toString(), v);
            }
            return new Contents(model, optimizerState, provenance, quantization);
        } catch (IOException | RuntimeException e) {
            kernels.close();
            allocator.close();
            throw e;
        }
    }

    private static void readTensor(Path file, FileChannel in, Entry e, Tensor into) throws IOException {
        ByteBuffer target = into.buffer().duplicate();
        target.position(0).limit((int) e.length());
        readFully(in, target, e.offset(), file);
        target.flip();
        CRC32 crc = new CRC32();
        crc.update(target);
        if (crc.getValue() != e.crc32()) {
            throw new ModelFormatException(file, "tensor '" + e.name() + "' fails its checksum (CRC-32 "
                    + Long.toHexString(crc.getValue()) + ", directory says " + Long.toHexString(e.crc32())
                    + "): the file is corrupted");
        }
    }

    private static long crc(Tensor t) {
        CRC32 crc = new CRC32();
        ByteBuffer data = t.buffer().duplicate();
        data.position((int) (t.offset() * t.dtype().byteSize())).limit(data.position() + (int) byteLength(t));
        if (t.isContiguous()) {
            crc.update(data);
        } else {
            crc.update(org.streamdl.tensor.TensorBytes.toRawBytes(t));
        }
        return crc.getValue();
    }

    private static long byteLength(Tensor t) {
        return t.elementCount() * t.dtype().byteSize();
    }

    private static long align(long at) {
        return (at + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
    }

    private static void writeFully(FileChannel out, ByteBuffer data, long position) throws IOException {
        long at = position;
        while (data.hasRemaining()) {
            at += out.write(data, at);
        }
    }

    private static void readFully(FileChannel in, ByteBuffer into, long position, Path file) throws IOException {
        long at = position;
        while (into.hasRemaining()) {
            int n = in.read(into, at);
            if (n < 0) {
                throw new ModelFormatException(file, "ends at byte " + at + " while " + into.remaining() + " more were expected");
            }
            at += n;
        }
    }
}
