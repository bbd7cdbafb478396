package ai.behemoth.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The safetensors format (Hugging Face): an 8-byte little-endian header length, a JSON header
 * mapping each tensor name to {@code dtype}, {@code shape} and {@code data_offsets}, then the raw
 * little-endian data. This class reads and writes float32 tensors held on the heap; the inference
 * engine maps files itself.
 */
public final class Safetensors {
    private Safetensors() {}

    /** A float32 tensor: its shape and row-major data. */
    public record Tensor(int[] shape, float[] data) {
        public Tensor {
            long n = 1;
            for (int s : shape) n *= s;
            if (n != data.length)
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + n + " values, data has " + data.length);
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER = 100L << 20;

    /**
     * Writes the tensors (in the map's order) and optional string metadata (sorted by key) to
     * {@code file}. The header's every key comes in a fixed order, so that the same tensors give the
     * same bytes, and the same SHA-256, from run to run ({@code Map.of} iterates in an order that
     * changes with each JVM).
     */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Object> header = new LinkedHashMap<>();
        if (metadata != null && !metadata.isEmpty()) header.put("__metadata__", new TreeMap<>(metadata));
        long offset = 0;
        for (var e : tensors.entrySet()) {
            long bytes = 4L * e.getValue().data().length;
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("dtype", "F32");
            entry.put("shape", e.getValue().shape());
            entry.put("data_offsets", List.of(offset, offset + bytes));
            header.put(e.getKey(), entry);
            offset += bytes;
        }
        byte[] json = JSON.writeValueAsBytes(header);
        int padded = (json.length + 7) & ~7; // keep tensor data 8-byte aligned, padding with spaces as the spec allows
        byte[] head = Arrays.copyOf(json, padded);
        Arrays.fill(head, json.length, padded, (byte) ' ');
        try (OutputStream out = Files.newOutputStream(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
            out.write(len.array());
            out.write(head);
            ByteBuffer buf = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
            for (Tensor t : tensors.values()) {
                for (float v : t.data()) {
                    if (!buf.hasRemaining()) {
                        out.write(buf.array(), 0, buf.position());
                        buf.clear();
                    }
                    buf.putFloat(v);
                }
            }
            out.write(buf.array(), 0, buf.position());
        }
    }

    /** Reads every tensor of a safetensors file into memory as float32 (F32, F16 and BF16 are accepted). */
    public static Map<String, Tensor> read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = ch.size();
            if (fileSize < 8) throw new IOException(file + ": not a safetensors file (only " + fileSize + " bytes)");
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            readFully(ch, lenBuf, 0, file);
            long headerLen = lenBuf.flip().getLong();
            if (headerLen <= 0 || headerLen > MAX_HEADER || 8 + headerLen > fileSize)
                throw new IOException(file + ": corrupt safetensors header length " + headerLen + " (file is " + fileSize + " bytes)");
            ByteBuffer headBuf = ByteBuffer.allocate((int) headerLen);
            readFully(ch, headBuf, 8, file);
            Map<String, Object> header;
            try {
                header = JSON.readValue(new String(headBuf.array(), StandardCharsets.UTF_8), new TypeReference<>() {});
            } catch (JsonProcessingException e) {
                throw new IOException(file + ": corrupt safetensors header: " + e.getOriginalMessage(), e);
            }
            long dataStart = 8 + headerLen, dataSize = fileSize - dataStart;
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (var e : header.entrySet()) {
                if (e.getKey().equals("__metadata__")) continue;
                out.put(e.getKey(), readTensor(ch, file, e.getKey(), e.getValue(), dataStart, dataSize));
            }
            return out;
        }
    }

    private static Tensor readTensor(FileChannel ch, Path file, String name, Object spec, long dataStart, long dataSize) throws IOException {
        if (!(spec instanceof Map<?, ?> m) || !(m.get("dtype") instanceof String dtype)
                || !(m.get("shape") instanceof List<?> shapeList) || !(m.get("data_offsets") instanceof List<?> offs) || offs.size() != 2)
            throw new IOException(file + ": tensor " + name + " has a malformed header entry");
        int width = switch (dtype) {
            case "F32" -> 4;
            case "F16", "BF16" -> 2;
            default -> throw new IOException(file + ": tensor " + name + " has dtype " + dtype + " (supported: F32, F16, BF16)");
        };
        int[] shape = new int[shapeList.size()];
        long count = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(shapeList.get(i) instanceof Number n) || n.longValue() < 0 || n.longValue() > Integer.MAX_VALUE)
                throw new IOException(file + ": tensor " + name + " has a bad shape " + shapeList);
            shape[i] = n.intValue();
            count *= shape[i];
        }
        long begin = ((Number) offs.get(0)).longValue(), end = ((Number) offs.get(1)).longValue();
        if (begin < 0 || end < begin || end > dataSize || end - begin != count * width || count > Integer.MAX_VALUE - 16)
            throw new IOException(file + ": tensor " + name + " data_offsets [" + begin + ", " + end + "] do not fit shape "
                    + Arrays.toString(shape) + " " + dtype + " in " + dataSize + " data bytes (truncated or corrupt file?)");
        ByteBuffer raw = ByteBuffer.allocate((int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, raw, dataStart + begin, file);
        raw.flip();
        float[] data = new float[(int) count];
        for (int i = 0; i < data.length; i++) {
            data[i] = switch (dtype) {
                case "F32" -> raw.getFloat();
                case "F16" -> Float.float16ToFloat(raw.getShort());
                default -> Float.intBitsToFloat((raw.getShort() & 0xffff) << 16);
            };
        }
        return new Tensor(shape, data);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position, Path file) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, position);
            if (n < 0) throw new IOException(file + ": truncated (ended at byte " + position + ")");
            position += n;
        }
    }
}
