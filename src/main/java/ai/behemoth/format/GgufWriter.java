package ai.behemoth.format;

import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Quant;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a GGUF v3 file: metadata, then tensors, each at an offset aligned to
 * {@code general.alignment} (32 unless that key says otherwise). Tensor bytes are produced straight
 * into a memory-mapped temporary file in the target's folder, which is renamed onto the target only
 * when complete, so a failure never leaves a half-written file.
 */
public final class GgufWriter {
    /** Fills the {@code dst.byteSize()} bytes of one tensor. */
    @FunctionalInterface
    public interface TensorData {
        void writeTo(MemorySegment dst) throws IOException;
    }

    private record Pending(GgufTensorInfo info, TensorData data) {}

    private final Map<String, GgufValue> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    /** Sets metadata {@code key} (keeping the position of a key set before). */
    public GgufWriter put(String key, GgufValue value) {
        if (key.equals("general.alignment")) {
            long a = value.type() == GgufValueType.UINT32 ? value.asLong() : -1;
            if (a <= 0 || (a & (a - 1)) != 0 || a > 1 << 20)
                throw new IllegalArgumentException("general.alignment must be a UINT32 power of two up to 2^20, got " + value);
            if (!tensors.isEmpty()) throw new IllegalStateException("set general.alignment before adding tensors");
        }
        metadata.put(key, value);
        return this;
    }

    /** Adds a tensor whose bytes {@code data} will write; {@code dims} in ggml order (dims[0] = row length). */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, TensorData data) {
        if (!names.add(name)) throw new IllegalArgumentException("duplicate tensor name " + name);
        if (dims.length > GgufFile.MAX_DIMS) throw new IllegalArgumentException("tensor " + name + " has " + dims.length + " dimensions (at most 4)");
        for (long d : dims) if (d < 0) throw new IllegalArgumentException("tensor " + name + " has a negative dimension " + Arrays.toString(dims));
        long rowLength = dims.length == 0 ? 1 : dims[0];
        if (rowLength % type.blockSize != 0)
            throw new IllegalArgumentException("tensor " + name + ": " + type + " needs a row length that is a multiple of "
                    + type.blockSize + ", got " + rowLength);
        long offset = 0;
        if (!tensors.isEmpty()) {
            GgufTensorInfo last = tensors.getLast().info();
            offset = GgufFile.align(last.offset() + last.byteSize(), alignment());
        }
        tensors.add(new Pending(new GgufTensorInfo(name, dims, type, offset), data));
        return this;
    }

    /** Adds a tensor from row-major floats (the last PyTorch dimension is dims[0]), quantised to {@code type}. */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, float[] values) {
        long n = 1;
        for (long d : dims) n *= d;
        if (n != values.length)
            throw new IllegalArgumentException("tensor " + name + ": dims " + Arrays.toString(dims) + " hold " + n + " values, got " + values.length);
        int rowLength = (int) (dims.length == 0 ? 1 : dims[0]);
        return addTensor(name, type, dims, dst -> {
            long rowBytes = type.rowBytes(rowLength);
            for (int r = 0; rowLength > 0 && r < values.length / rowLength; r++)
                Quant.quantize(type, values, r * rowLength, rowLength, dst, r * rowBytes);
        });
    }

    /** Adds a tensor whose encoded bytes are {@code bytes} (copied when the file is written). */
    public GgufWriter addTensor(String name, GgmlType type, long[] dims, MemorySegment bytes) {
        addTensor(name, type, dims, (TensorData) dst -> dst.copyFrom(bytes));
        long expected = tensors.getLast().info().byteSize();
        if (bytes.byteSize() != expected) {
            tensors.removeLast();
            names.remove(name);
            throw new IllegalArgumentException("tensor " + name + ": " + type + " " + Arrays.toString(dims) + " takes "
                    + expected + " bytes, got " + bytes.byteSize());
        }
        return this;
    }

    private int alignment() {
        GgufValue a = metadata.get("general.alignment");
        return a == null ? GgufFile.DEFAULT_ALIGNMENT : (int) a.asLong();
    }

    /** Writes the file: to a temporary name in the same folder, then renamed onto {@code file}. */
    public void write(Path file) throws IOException {
        byte[] header = header();
        int alignment = alignment();
        long dataOffset = GgufFile.align(header.length, alignment);
        long dataSize = 0;
        if (!tensors.isEmpty()) {
            GgufTensorInfo last = tensors.getLast().info();
            dataSize = last.offset() + last.byteSize();
        }
        Path dir = file.toAbsolutePath().getParent();
        // Not Files.createTempFile: its owner-only permissions would carry over to the renamed file.
        Path tmp = dir.resolve("." + file.getFileName() + "." + ProcessHandle.current().pid() + "." + System.nanoTime() + ".tmp");
        try {
            try (Arena arena = Arena.ofConfined();
                 FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                long total = dataOffset + dataSize;
                MemorySegment out = ch.map(FileChannel.MapMode.READ_WRITE, 0, total, arena);
                out.asSlice(0, header.length).copyFrom(MemorySegment.ofArray(header));
                for (Pending p : tensors)
                    p.data().writeTo(out.asSlice(dataOffset + p.info().offset(), p.info().byteSize()));
                out.force();
            }
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    private byte[] header() {
        Out out = new Out();
        out.bytes(new byte[]{'G', 'G', 'U', 'F'});
        out.u32(3);
        out.u64(tensors.size());
        out.u64(metadata.size());
        for (var e : metadata.entrySet()) {
            out.string(e.getKey());
            out.u32(e.getValue().type().id);
            out.value(e.getValue().type(), e.getValue().value());
        }
        for (Pending p : tensors) {
            GgufTensorInfo t = p.info();
            out.string(t.name());
            out.u32(t.dims().length);
            for (long d : t.dims()) out.u64(d);
            out.u32(t.type().ggmlId);
            out.u64(t.offset());
        }
        return out.toByteArray();
    }

    /** Little-endian serialisation of header fields. */
    private static final class Out extends ByteArrayOutputStream {
        private final ByteBuffer scratch = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);

        void bytes(byte[] b) {
            write(b, 0, b.length);
        }

        void u32(long v) {
            write(scratch.clear().putInt((int) v).array(), 0, 4);
        }

        void u64(long v) {
            write(scratch.clear().putLong(v).array(), 0, 8);
        }

        void string(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u64(b.length);
            bytes(b);
        }

        void value(GgufValueType type, Object v) {
            switch (type) {
                case UINT8, INT8 -> write((Integer) v);
                case BOOL -> write((Boolean) v ? 1 : 0);
                case UINT16, INT16 -> write(scratch.clear().putShort((short) (int) (Integer) v).array(), 0, 2);
                case UINT32 -> u32((Long) v);
                case INT32 -> u32((Integer) v);
                case FLOAT32 -> u32(Float.floatToRawIntBits((Float) v));
                case UINT64, INT64 -> u64((Long) v);
                case FLOAT64 -> u64(Double.doubleToRawLongBits((Double) v));
                case STRING -> string((String) v);
                case ARRAY -> {
                    GgufArray a = (GgufArray) v;
                    u32(a.elementType().id);
                    u64(a.size());
                    for (Object item : a.items()) value(a.elementType(), item);
                }
            }
        }
    }
}
