package ai.behemoth.format;

import ai.behemoth.tensor.quant.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The mapped reader against the heap writer, and a clear IOException for each kind of damage. */
class SafetensorsFileTest {
    @TempDir
    Path tmp;

    @Test
    void mapsWhatTheWriterWrote() throws IOException {
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("a", new Safetensors.Tensor(new int[]{2, 3}, new float[]{1, 2, 3, 4, 5, -6.5f}));
        tensors.put("b", new Safetensors.Tensor(new int[]{1}, new float[]{7}));
        Path file = tmp.resolve("t.safetensors");
        Safetensors.write(file, tensors, Map.of("k", "v"));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertThat(f.tensors().keySet()).containsExactly("a", "b");
            SafetensorsFile.Entry a = f.get("a");
            assertThat(a.type()).isEqualTo(GgmlType.F32);
            assertThat(a.shape()).containsExactly(2, 3);
            assertThat(a.data().isMapped()).isTrue();
            assertThat(a.data().toArray(ValueLayout.JAVA_FLOAT)).containsExactly(1, 2, 3, 4, 5, -6.5f);
            assertThat(f.get("b").data().toArray(ValueLayout.JAVA_FLOAT)).containsExactly(7);
            assertThat(f.get("c")).isNull();
        }
    }

    /** The header's keys in one order whatever maps the caller passes, so the same tensors give the same bytes in every JVM. */
    @Test
    void theHeaderIsTheSameBytesFromRunToRun() throws IOException {
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        tensors.put("w", new Safetensors.Tensor(new int[]{2}, new float[]{1, 2}));
        Path file = tmp.resolve("h.safetensors");
        Safetensors.write(file, tensors, Map.of("producer", "behemoth", "format", "pt", "b", "1")); // Map.of: a per-JVM order
        byte[] bytes = Files.readAllBytes(file);
        long length = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(new String(bytes, 8, (int) length, StandardCharsets.UTF_8).strip()).isEqualTo(
                "{\"__metadata__\":{\"b\":\"1\",\"format\":\"pt\",\"producer\":\"behemoth\"},"
                        + "\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}");
    }

    private Path withHeader(String json, int dataBytes) throws IOException {
        byte[] head = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + head.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(head.length).put(head);
        Path file = Files.createTempFile(tmp, "bad", ".safetensors");
        Files.write(file, buf.array());
        return file;
    }

    @Test
    void damageIsAnIOExceptionNamingTheFileAndTensor() throws IOException {
        Path tooShort = tmp.resolve("short.safetensors");
        Files.write(tooShort, new byte[5]);
        assertThatThrownBy(() -> SafetensorsFile.open(tooShort)).isInstanceOf(IOException.class).hasMessageContaining("only 5 bytes");

        Path hugeHeader = tmp.resolve("huge.safetensors");
        Files.write(hugeHeader, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1L << 40).array());
        assertThatThrownBy(() -> SafetensorsFile.open(hugeHeader)).hasMessageContaining("corrupt safetensors header length");

        assertThatThrownBy(() -> SafetensorsFile.open(withHeader("{not json", 0))).hasMessageContaining("corrupt safetensors header");
        assertThatThrownBy(() -> SafetensorsFile.open(withHeader("{\"w\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8)))
                .hasMessageContaining("tensor w has dtype I64");
        assertThatThrownBy(() -> SafetensorsFile.open(withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8)))
                .hasMessageContaining("tensor w data_offsets [0, 16]").hasMessageContaining("truncated");
        assertThatThrownBy(() -> SafetensorsFile.open(withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8)))
                .hasMessageContaining("do not fit shape [3]");
        assertThatThrownBy(() -> SafetensorsFile.open(withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[-1]}}", 8)))
                .hasMessageContaining("tensor w has a malformed header entry");
        assertThatThrownBy(() -> SafetensorsFile.open(withHeader(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2147483647,2147483647,2147483647],\"data_offsets\":[0,8]}}", 8)))
                .hasMessageContaining("do not fit shape");
    }
}
