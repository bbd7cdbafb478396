package ai.behemoth.format;

import ai.behemoth.tensor.quant.GgmlType;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file mapped into memory (FFM): the header is parsed and checked once, and each
 * tensor is a slice of the mapping, so opening a file of any size copies no tensor data. The
 * mapping lives until {@link #close()}; slices must not be used after it.
 */
public final class SafetensorsFile implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    /** One tensor: element type, shape, and its bytes inside the mapping. */
    public record Entry(String name, GgmlType type, long[] shape, MemorySegment data) {
        public long elements() {
            long n = 1;
            for (long s : shape) n *= s;
            return n;
        }
    }

    private final Path file;
    private final Arena arena;
    private final Map<String, Entry> tensors;

    private SafetensorsFile(Path file, Arena arena, Map<String, Entry> tensors) {
        this.file = file;
        this.arena = arena;
        this.tensors = tensors;
    }

    /** Maps {@code file} read-only; throws an IOException naming the file and what is wrong with it. */
    public static SafetensorsFile open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) throw new IOException(file + ": not a safetensors file (only " + size + " bytes)");
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long headerLen = all.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN), 0);
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > size)
                throw new IOException(file + ": corrupt safetensors header length " + headerLen + " (file is " + size + " bytes)");
            byte[] head = all.asSlice(8, headerLen).toArray(ValueLayout.JAVA_BYTE);
            Map<String, Object> header;
            try {
                header = JSON.readValue(new String(head, StandardCharsets.UTF_8), new TypeReference<>() {});
            } catch (JsonProcessingException e) {
                throw new IOException(file + ": corrupt safetensors header: " + e.getOriginalMessage(), e);
            }
            MemorySegment data = all.asSlice(8 + headerLen);
            Map<String, Entry> tensors = new LinkedHashMap<>();
            for (var e : header.entrySet()) {
                if (e.getKey().equals("__metadata__")) continue;
                tensors.put(e.getKey(), entry(file, e.getKey(), e.getValue(), data));
            }
            return new SafetensorsFile(file, arena, Collections.unmodifiableMap(tensors));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static Entry entry(Path file, String name, Object spec, MemorySegment data) throws IOException {
        if (!(spec instanceof Map<?, ?> m) || !(m.get("dtype") instanceof String dtype)
                || !(m.get("shape") instanceof List<?> shapeList) || !(m.get("data_offsets") instanceof List<?> offs)
                || offs.size() != 2 || !(offs.get(0) instanceof Number b) || !(offs.get(1) instanceof Number en))
            throw new IOException(file + ": tensor " + name + " has a malformed header entry");
        GgmlType type = switch (dtype) {
            case "F32" -> GgmlType.F32;
            case "F16" -> GgmlType.F16;
            case "BF16" -> GgmlType.BF16;
            default -> throw new IOException(file + ": tensor " + name + " has dtype " + dtype + " (supported: F32, F16, BF16)");
        };
        long[] shape = new long[shapeList.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(shapeList.get(i) instanceof Number n) || n.longValue() < 0 || n.longValue() > Integer.MAX_VALUE)
                throw new IOException(file + ": tensor " + name + " has a bad shape " + shapeList);
            shape[i] = n.longValue();
            count = Math.multiplyHigh(count, shape[i]) != 0 ? Long.MAX_VALUE : count * shape[i];
        }
        long begin = b.longValue(), end = en.longValue();
        if (begin < 0 || end < begin || end > data.byteSize() || count > Long.MAX_VALUE / 4 || end - begin != count * type.blockBytes)
            throw new IOException(file + ": tensor " + name + " data_offsets [" + begin + ", " + end + "] do not fit shape "
                    + Arrays.toString(shape) + " " + dtype + " in " + data.byteSize() + " data bytes (truncated or corrupt file?)");
        return new Entry(name, type, shape, data.asSlice(begin, end - begin));
    }

    public Path file() {
        return file;
    }

    /** Every tensor, in header order. */
    public Map<String, Entry> tensors() {
        return tensors;
    }

    /** The tensor called {@code name}, or null. */
    public Entry get(String name) {
        return tensors.get(name);
    }

    @Override
    public void close() {
        arena.close();
    }
}
