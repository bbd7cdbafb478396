package ai.behemoth.format;

import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Quant;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (version 2 or 3, little-endian), memory-mapped: its metadata, its tensor infos, and its
 * data section as a {@link MemorySegment} of the mapping (no copy on the heap). Close it to unmap.
 *
 * <p>Layout: "GGUF", uint32 version, uint64 tensor count, uint64 metadata count; the metadata
 * (string key, uint32 type, value); the tensor infos (string name, uint32 n_dims, uint64 dims[n_dims],
 * uint32 ggml type, uint64 offset); padding to {@code general.alignment} (default 32); the data.
 * A string is a uint64 byte length and UTF-8 bytes; an array a uint32 element type, a uint64 count
 * and the elements. Every count and length is checked against the bytes left in the file before
 * anything is allocated, so a corrupt file gives an IOException naming the file and the problem.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" read as a little-endian uint32
    public static final int DEFAULT_ALIGNMENT = 32;
    /** ggml's GGML_MAX_DIMS. */
    public static final int MAX_DIMS = 4;

    private final Path path;
    private final Arena arena;
    private final int version;
    private final int alignment;
    private final Map<String, GgufValue> metadata;
    private final List<GgufTensorInfo> tensors;
    private final Map<String, GgufTensorInfo> byName;
    private final long dataOffset;
    private final MemorySegment data;

    private GgufFile(Path path, Arena arena, int version, int alignment, Map<String, GgufValue> metadata,
                     List<GgufTensorInfo> tensors, long dataOffset, MemorySegment data) {
        this.path = path;
        this.arena = arena;
        this.version = version;
        this.alignment = alignment;
        this.metadata = Collections.unmodifiableMap(metadata);
        this.tensors = List.copyOf(tensors);
        Map<String, GgufTensorInfo> names = new LinkedHashMap<>();
        for (GgufTensorInfo t : tensors) names.put(t.name(), t);
        this.byName = Collections.unmodifiableMap(names);
        this.dataOffset = dataOffset;
        this.data = data;
    }

    /** Maps and parses {@code path}; the mapping is shared, so several threads may read tensors. */
    public static GgufFile open(Path path) throws IOException {
        if (Files.exists(path) && !Files.isRegularFile(path)) throw new IOException(path + ": not a regular file");
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment file = ch.size() == 0 ? MemorySegment.ofArray(new byte[0])
                    : ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return new Parser(path, file).parse(arena);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    public Path path() { return path; }
    public int version() { return version; }
    public int alignment() { return alignment; }
    /** The metadata in file order. */
    public Map<String, GgufValue> metadata() { return metadata; }
    /** The tensor infos in file order. */
    public List<GgufTensorInfo> tensors() { return tensors; }
    /** The offset of the data section in the file. */
    public long dataOffset() { return dataOffset; }

    /** The whole data section: a slice of the mapping, valid until {@link #close()}. */
    public MemorySegment data() { return data; }

    /** The tensor called {@code name}, or null. */
    public GgufTensorInfo tensor(String name) {
        return byName.get(name);
    }

    /** The bytes of tensor {@code t}: a slice of the mapping. */
    public MemorySegment tensorData(GgufTensorInfo t) {
        return data.asSlice(t.offset(), t.byteSize());
    }

    /** Dequantises a whole tensor onto the heap (for small tensors and tests; the engine reads the mapping). */
    public float[] readFloats(GgufTensorInfo t) throws IOException {
        if (t.elements() > Integer.MAX_VALUE - 16)
            throw new IOException(path + ": tensor " + t.name() + " has " + t.elements() + " values, too many for one float array");
        float[] out = new float[(int) t.elements()];
        MemorySegment bytes = tensorData(t);
        int n = (int) t.rowLength();
        long rowBytes = t.type().rowBytes(n);
        for (long r = 0; r < t.rows(); r++) Quant.dequantize(t.type(), bytes, r * rowBytes, out, (int) (r * n), n);
        return out;
    }

    /** The metadata value {@code key}; throws naming the file and key when it is missing. */
    public GgufValue get(String key) throws IOException {
        GgufValue v = metadata.get(key);
        if (v == null) throw new IOException(path + ": metadata key " + key + " is missing");
        return v;
    }

    public String getString(String key) throws IOException {
        GgufValue v = get(key);
        if (!(v.value() instanceof String s)) throw new IOException(path + ": metadata " + key + " is " + v.type() + ", expected STRING");
        return s;
    }

    public long getLong(String key) throws IOException {
        GgufValue v = get(key);
        if (!(v.value() instanceof Integer || v.value() instanceof Long))
            throw new IOException(path + ": metadata " + key + " is " + v.type() + ", expected an integer");
        return v.asLong();
    }

    /** The items of array {@code key}, which must hold {@code element} values. */
    private List<?> array(String key, GgufValueType... element) throws IOException {
        GgufValue v = get(key);
        if (v.value() instanceof GgufArray a && Arrays.asList(element).contains(a.elementType())) return a.items();
        String got = v.value() instanceof GgufArray a ? "an array of " + a.elementType() : v.type().toString();
        throw new IOException(path + ": metadata " + key + " is " + got + ", expected an array of " + Arrays.toString(element));
    }

    /** A string array (a vocabulary, merges). */
    public List<String> getStrings(String key) throws IOException {
        return array(key, GgufValueType.STRING).stream().map(String.class::cast).toList();
    }

    /** A FLOAT32 array (token scores). */
    public float[] getFloats(String key) throws IOException {
        List<?> items = array(key, GgufValueType.FLOAT32);
        float[] out = new float[items.size()];
        for (int i = 0; i < out.length; i++) out[i] = (Float) items.get(i);
        return out;
    }

    /** An array of any integer type up to 32 bits (token types, per-layer counts). */
    public int[] getInts(String key) throws IOException {
        List<?> items = array(key, GgufValueType.INT8, GgufValueType.UINT8, GgufValueType.INT16, GgufValueType.UINT16,
                GgufValueType.INT32, GgufValueType.UINT32);
        int[] out = new int[items.size()];
        for (int i = 0; i < out.length; i++) {
            long v = items.get(i) instanceof Long l ? l : (Integer) items.get(i);
            if (v != (int) v) throw new IOException(path + ": metadata " + key + "[" + i + "] = " + v + " does not fit an int");
            out[i] = (int) v;
        }
        return out;
    }

    @Override
    public void close() {
        arena.close();
    }

    /** Reads the header from the mapped bytes, checking every length against what is left. */
    private static final class Parser {
        private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        private static final ValueLayout.OfDouble F64 = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
        /** Nested arrays deeper than this are refused (llama.cpp writes at most arrays of arrays). */
        private static final int MAX_ARRAY_DEPTH = 8;

        private final Path path;
        private final MemorySegment file;
        private final long size;
        private long pos;

        Parser(Path path, MemorySegment file) {
            this.path = path;
            this.file = file;
            this.size = file.byteSize();
        }

        private IOException corrupt(String what) {
            return new IOException(path + ": " + what);
        }

        private void need(long bytes, String what) throws IOException {
            if (bytes < 0 || bytes > size - pos)
                throw corrupt("truncated: " + what + " needs " + Long.toUnsignedString(bytes) + " bytes at offset " + pos
                        + ", the file has " + (size - pos) + " left");
        }

        private int u32(String what) throws IOException {
            need(4, what);
            int v = file.get(U32, pos);
            pos += 4;
            return v;
        }

        private long u64(String what) throws IOException {
            need(8, what);
            long v = file.get(U64, pos);
            pos += 8;
            return v;
        }

        /** A count of items each at least {@code minBytes} long: refused when the file cannot hold them. */
        private long count(String what, long minBytes) throws IOException {
            long n = u64(what);
            if (n < 0 || (minBytes > 0 && n > (size - pos) / minBytes))
                throw corrupt("corrupt " + what + " " + Long.toUnsignedString(n) + ": the " + (size - pos)
                        + " bytes left in the file cannot hold that many");
            return n;
        }

        private String string(String what) throws IOException {
            long len = u64(what + " length");
            if (len < 0 || len > size - pos)
                throw corrupt("corrupt " + what + ": length " + Long.toUnsignedString(len) + " at offset " + (pos - 8)
                        + " is longer than the " + (size - pos) + " bytes left in the file");
            if (len > Integer.MAX_VALUE - 16) throw corrupt(what + " of " + len + " bytes is too long");
            byte[] bytes = file.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
            pos += len;
            return new String(bytes, StandardCharsets.UTF_8);
        }

        GgufFile parse(Arena arena) throws IOException {
            if (size < 4 || file.get(U32, 0) != MAGIC) {
                String got = size < 4 ? "only " + size + " bytes" : String.format("magic 0x%08x", file.get(U32, 0));
                throw corrupt("not a GGUF file (" + got + ", expected \"GGUF\")");
            }
            pos = 4;
            int version = u32("version");
            if (version != 2 && version != 3) {
                String hint = Integer.reverseBytes(version) == 3 || Integer.reverseBytes(version) == 2 ? " (a big-endian file?)" : "";
                throw corrupt("unsupported GGUF version " + Integer.toUnsignedString(version) + hint + "; supported: 2, 3");
            }
            long nTensors = count("tensor count", 24);
            long nKv = count("metadata count", 13);

            Map<String, GgufValue> metadata = new LinkedHashMap<>();
            for (long i = 0; i < nKv; i++) {
                long at = pos;
                String key = string("metadata key " + i);
                GgufValueType type = valueType("metadata " + key);
                GgufValue value = new GgufValue(type, value(type, key, 0));
                if (metadata.putIfAbsent(key, value) != null) throw corrupt("duplicate metadata key " + key + " at offset " + at);
            }

            int alignment = DEFAULT_ALIGNMENT;
            GgufValue align = metadata.get("general.alignment");
            if (align != null) {
                if (align.type() != GgufValueType.UINT32) throw corrupt("general.alignment is " + align.type() + ", expected UINT32");
                long a = align.asLong();
                if (a == 0 || (a & (a - 1)) != 0 || a > 1 << 20) throw corrupt("general.alignment " + a + " is not a power of two up to 2^20");
                alignment = (int) a;
            }

            List<GgufTensorInfo> tensors = new ArrayList<>();
            Map<String, GgufTensorInfo> names = new LinkedHashMap<>();
            for (long i = 0; i < nTensors; i++) {
                GgufTensorInfo t = tensorInfo(i, alignment);
                if (names.putIfAbsent(t.name(), t) != null) throw corrupt("duplicate tensor name " + t.name());
                tensors.add(t);
            }

            long dataOffset = align(pos, alignment);
            long dataSize = Math.max(0, size - dataOffset);
            checkExtents(tensors, dataOffset, dataSize);
            MemorySegment data = dataOffset <= size ? file.asSlice(dataOffset, size - dataOffset) : file.asSlice(size, 0);
            return new GgufFile(path, arena, version, alignment, metadata, tensors, dataOffset, data);
        }

        private GgufValueType valueType(String what) throws IOException {
            int id = u32(what + " type");
            GgufValueType type = GgufValueType.ofId(Integer.toUnsignedLong(id));
            if (type == null) throw corrupt(what + " has unknown value type " + Integer.toUnsignedString(id));
            return type;
        }

        private Object value(GgufValueType type, String key, int depth) throws IOException {
            String what = "metadata " + key;
            switch (type) {
                case UINT8, INT8, BOOL -> need(1, what);
                case UINT16, INT16 -> need(2, what);
                default -> { }
            }
            return switch (type) {
                case UINT8 -> file.get(ValueLayout.JAVA_BYTE, pos++) & 0xff;
                case INT8 -> (int) file.get(ValueLayout.JAVA_BYTE, pos++);
                case BOOL -> file.get(ValueLayout.JAVA_BYTE, pos++) != 0;
                case UINT16 -> { int v = file.get(U16, pos) & 0xffff; pos += 2; yield v; }
                case INT16 -> { int v = file.get(U16, pos); pos += 2; yield v; }
                case UINT32 -> Integer.toUnsignedLong(u32(what));
                case INT32 -> u32(what);
                case FLOAT32 -> Float.intBitsToFloat(u32(what));
                case UINT64, INT64 -> u64(what);
                case FLOAT64 -> Double.longBitsToDouble(u64(what));
                case STRING -> string(what);
                case ARRAY -> {
                    if (depth >= MAX_ARRAY_DEPTH) throw corrupt(what + " nests arrays more than " + MAX_ARRAY_DEPTH + " deep");
                    GgufValueType element = valueType(what + " element");
                    long n = count(what + " array length", element.minBytes);
                    List<Object> items = new ArrayList<>((int) Math.min(n, 1 << 16));
                    for (long i = 0; i < n; i++) items.add(value(element, key, depth + 1));
                    yield new GgufArray(element, items);
                }
            };
        }

        private GgufTensorInfo tensorInfo(long index, int alignment) throws IOException {
            String name = string("tensor " + index + " name");
            int nDims = u32("tensor " + name + " n_dims");
            if (nDims < 0 || nDims > MAX_DIMS) throw corrupt("tensor " + name + " has " + Integer.toUnsignedString(nDims) + " dimensions (at most " + MAX_DIMS + ")");
            long[] dims = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++) {
                dims[d] = u64("tensor " + name + " dims");
                if (dims[d] < 0 || (dims[d] != 0 && elements > Long.MAX_VALUE / dims[d]))
                    throw corrupt("tensor " + name + " has absurd dimensions " + Arrays.toString(unsigned(dims, d + 1)));
                elements *= dims[d];
            }
            int typeId = u32("tensor " + name + " type");
            GgmlType type;
            try {
                type = GgmlType.ofId(typeId);
            } catch (IllegalArgumentException e) {
                throw corrupt("tensor " + name + " has unknown or unsupported ggml type " + Integer.toUnsignedString(typeId)
                        + " (supported: " + Arrays.toString(GgmlType.values()) + ")");
            }
            long rowLength = nDims == 0 ? 1 : dims[0];
            if (rowLength % type.blockSize != 0)
                throw corrupt("tensor " + name + " is " + type + " but its row length " + rowLength + " is not a multiple of " + type.blockSize);
            if (elements / type.blockSize > Long.MAX_VALUE / type.blockBytes)
                throw corrupt("tensor " + name + " has absurd dimensions " + Arrays.toString(dims));
            long offset = u64("tensor " + name + " offset");
            if (offset < 0 || offset % alignment != 0)
                throw corrupt("tensor " + name + " offset " + Long.toUnsignedString(offset) + " is not a multiple of the alignment " + alignment);
            return new GgufTensorInfo(name, dims, type, offset);
        }

        private static String[] unsigned(long[] dims, int n) {
            String[] s = new String[n];
            for (int i = 0; i < n; i++) s[i] = Long.toUnsignedString(dims[i]);
            return s;
        }

        /** Every tensor lies inside the data section, and no two overlap. */
        private void checkExtents(List<GgufTensorInfo> tensors, long dataOffset, long dataSize) throws IOException {
            List<GgufTensorInfo> byOffset = new ArrayList<>(tensors);
            byOffset.sort(Comparator.comparingLong(GgufTensorInfo::offset));
            GgufTensorInfo previous = null;
            for (GgufTensorInfo t : byOffset) {
                long bytes = t.byteSize();
                if (t.offset() > dataSize || bytes > dataSize - t.offset())
                    throw corrupt("tensor " + t.name() + " (" + bytes + " bytes at data offset " + t.offset()
                            + ") runs past the end of the file: the data section holds " + dataSize + " bytes from offset " + dataOffset + " (truncated?)");
                if (previous != null && t.offset() < previous.offset() + previous.byteSize())
                    throw corrupt("tensors " + previous.name() + " and " + t.name() + " overlap (data offsets "
                            + previous.offset() + "+" + previous.byteSize() + " and " + t.offset() + ")");
                if (bytes > 0) previous = t;
            }
        }
    }

    static long align(long offset, int alignment) {
        return (offset + alignment - 1) / alignment * alignment;
    }
}
