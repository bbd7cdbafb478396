package ai.behemoth.format;

import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Quant;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Reads a file written by llama.cpp's gguf-py (tools/gguf_interop_fixture.py). */
class GgufInteropTest {

    @Test
    void readsAFileWrittenByLlamaCppsGgufPy() throws Exception {
        Path file = Path.of(GgufInteropTest.class.getResource("/gguf/llama_cpp_written.gguf").toURI());
        Map<String, GgufValue> expected = new LinkedHashMap<>();
        expected.put("general.architecture", GgufValue.string("llama"));
        expected.put("general.alignment", GgufValue.uint32(64));
        expected.put("general.name", GgufValue.string("interop"));
        expected.put("t.uint8", GgufValue.uint8(200));
        expected.put("t.int8", GgufValue.int8(-100));
        expected.put("t.uint16", GgufValue.uint16(60000));
        expected.put("t.int16", GgufValue.int16(-30000));
        expected.put("t.uint32", GgufValue.uint32(4000000000L));
        expected.put("t.int32", GgufValue.int32(-2000000000));
        expected.put("t.uint64", GgufValue.uint64(Long.parseUnsignedLong("18000000000000000000")));
        expected.put("t.int64", GgufValue.int64(-9000000000000000000L));
        expected.put("t.float32", GgufValue.float32(0.1f));
        expected.put("t.float64", GgufValue.float64(0.1));
        expected.put("t.bool", GgufValue.bool(true));
        expected.put("t.string", GgufValue.string("héllo ▁world"));
        expected.put("t.array.int32", GgufValue.array(GgufValueType.INT32, List.of(1, -2, 3)));
        expected.put("t.array.float32", GgufValue.array(GgufValueType.FLOAT32, List.of(0.5f, -1.25f)));
        expected.put("t.array.bool", GgufValue.array(GgufValueType.BOOL, List.of(true, false)));
        expected.put("t.array.string", GgufValue.array(GgufValueType.STRING, List.of("a", "bc", "")));
        expected.put("t.array.uint8", GgufValue.array(GgufValueType.UINT8, List.of(0, 127, 255)));
        expected.put("t.array.nested", GgufValue.array(GgufValueType.ARRAY, List.of(
                new GgufArray(GgufValueType.STRING, List.of("x", "y")),
                new GgufArray(GgufValueType.STRING, List.of("z")))));

        float[] values = new float[3 * 64];
        for (int i = 0; i < values.length; i++) values[i] = (float) ((i * 37 % 101 - 50) / 16.0);

        try (GgufFile g = GgufFile.open(file)) {
            assertThat(g.version()).isEqualTo(3);
            assertThat(g.alignment()).isEqualTo(64);
            assertThat(g.metadata()).containsExactlyEntriesOf(expected);
            assertThat(g.tensors()).extracting(GgufTensorInfo::name)
                    .containsExactly("w.F32", "w.F16", "w.BF16", "w.Q8_0", "w.Q4_0");
            for (GgufTensorInfo t : g.tensors()) {
                GgmlType type = GgmlType.valueOf(t.name().substring(2));
                assertThat(t.type()).isEqualTo(type);
                assertThat(t.dims()).containsExactly(64, 3);
                assertThat(t.offset() % 64).isZero();
                // gguf-py's bytes are exactly Behemoth's quantisation of the same values.
                byte[] ours = new byte[(int) t.byteSize()];
                for (int r = 0; r < 3; r++)
                    Quant.quantize(type, values, 64 * r, 64, MemorySegment.ofArray(ours), r * type.rowBytes(64));
                assertThat(g.tensorData(t).toArray(ValueLayout.JAVA_BYTE)).as(t.name()).isEqualTo(ours);
            }
            assertThat(g.readFloats(g.tensor("w.F32"))).isEqualTo(values);
            assertThat(g.readFloats(g.tensor("w.F16"))).isEqualTo(values); // every value is exact in half precision
        }
    }
}
