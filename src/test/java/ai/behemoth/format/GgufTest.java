package ai.behemoth.format;

import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Quant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GgufTest {
    @TempDir
    Path dir;

    /** Every metadata type, arrays of each, nested arrays of strings, an empty array, odd strings. */
    static Map<String, GgufValue> everyMetadataType() {
        Map<String, GgufValue> m = new LinkedHashMap<>();
        m.put("general.architecture", GgufValue.string("llama"));
        m.put("t.uint8", GgufValue.uint8(255));
        m.put("t.int8", GgufValue.int8(-128));
        m.put("t.uint16", GgufValue.uint16(65535));
        m.put("t.int16", GgufValue.int16(-32768));
        m.put("t.uint32", GgufValue.uint32(0xffffffffL));
        m.put("t.int32", GgufValue.int32(Integer.MIN_VALUE));
        m.put("t.uint64", GgufValue.uint64(-1L)); // 2^64 − 1 as a bit pattern
        m.put("t.int64", GgufValue.int64(Long.MIN_VALUE));
        m.put("t.float32", GgufValue.float32(-1.5e-7f));
        m.put("t.float64", GgufValue.float64(Math.PI));
        m.put("t.bool.true", GgufValue.bool(true));
        m.put("t.bool.false", GgufValue.bool(false));
        m.put("t.string.empty", GgufValue.string(""));
        m.put("t.string.unicode", GgufValue.string("Ġhello ▁wörld 🐘\n\"quoted\""));
        m.put("t.array.uint8", GgufValue.array(GgufValueType.UINT8, List.of(0, 1, 255)));
        m.put("t.array.int8", GgufValue.array(GgufValueType.INT8, List.of(-1, 127)));
        m.put("t.array.uint16", GgufValue.array(GgufValueType.UINT16, List.of(7, 65535)));
        m.put("t.array.int16", GgufValue.array(GgufValueType.INT16, List.of(-7, 300)));
        m.put("t.array.uint32", GgufValue.array(GgufValueType.UINT32, List.of(1L, 0xfffffffeL)));
        m.put("t.array.int32", GgufValue.array(GgufValueType.INT32, List.of(-5, 6, 7)));
        m.put("t.array.uint64", GgufValue.array(GgufValueType.UINT64, List.of(Long.MAX_VALUE, -2L)));
        m.put("t.array.int64", GgufValue.array(GgufValueType.INT64, List.of(-9L)));
        m.put("t.array.float32", GgufValue.array(GgufValueType.FLOAT32, List.of(0.25f, -0.0f, Float.NaN)));
        m.put("t.array.float64", GgufValue.array(GgufValueType.FLOAT64, List.of(1e300, -2.5)));
        m.put("t.array.bool", GgufValue.array(GgufValueType.BOOL, List.of(true, false, true)));
        m.put("t.array.string", GgufValue.array(GgufValueType.STRING, List.of("a", "", "Ċ")));
        m.put("t.array.empty", GgufValue.array(GgufValueType.INT32, List.of()));
        m.put("t.array.nested", GgufValue.array(GgufValueType.ARRAY, List.of(
                new GgufArray(GgufValueType.STRING, List.of("x", "yz")),
                new GgufArray(GgufValueType.STRING, List.of()),
                new GgufArray(GgufValueType.STRING, List.of("w")))));
        return m;
    }

    private static float[] random(Random rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rng.nextGaussian();
        return x;
    }

    @Test
    void roundTripsEveryMetadataTypeAndTensorType() throws IOException {
        Random rng = new Random(3);
        GgufWriter w = new GgufWriter();
        Map<String, GgufValue> meta = everyMetadataType();
        meta.forEach(w::put);
        Map<String, float[]> values = new LinkedHashMap<>();
        GgmlType[] types = {GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0};
        for (GgmlType type : types) {
            float[] v = random(rng, 64 * 3);
            values.put("w." + type, v);
            w.addTensor("w." + type, type, new long[]{64, 3}, v);
        }
        byte[] q4k = new byte[144 * 2];
        rng.nextBytes(q4k);
        w.addTensor("w.Q4_K", GgmlType.Q4_K, new long[]{256, 2}, MemorySegment.ofArray(q4k));
        w.addTensor("scalar", GgmlType.F32, new long[]{}, new float[]{42f});
        w.addTensor("vector", GgmlType.F32, new long[]{5}, new float[]{1, 2, 3, 4, 5});
        Path file = dir.resolve("all.gguf");
        w.write(file);

        try (GgufFile g = GgufFile.open(file)) {
            assertThat(g.version()).isEqualTo(3);
            assertThat(g.alignment()).isEqualTo(32);
            assertThat(g.metadata()).containsExactlyEntriesOf(meta);
            assertThat(g.tensors()).extracting(GgufTensorInfo::name).containsExactly(
                    "w.F32", "w.F16", "w.BF16", "w.Q8_0", "w.Q4_0", "w.Q4_K", "scalar", "vector");
            assertThat(g.dataOffset() % 32).isZero();
            for (GgmlType type : types) {
                GgufTensorInfo t = g.tensor("w." + type);
                assertThat(t.dims()).containsExactly(64, 3);
                assertThat(t.type()).isEqualTo(type);
                assertThat(t.offset() % 32).isZero();
                MemorySegment bytes = g.tensorData(t);
                assertThat(bytes.isMapped()).as("tensor data is the file mapping, not a heap copy").isTrue();
                // The bytes are exactly the quantisation of the floats given, and read back as its dequantisation.
                byte[] expected = new byte[(int) type.rowBytes(64) * 3];
                for (int r = 0; r < 3; r++) Quant.quantize(type, values.get("w." + type), 64 * r, 64, MemorySegment.ofArray(expected), r * type.rowBytes(64));
                assertThat(bytes.toArray(ValueLayout.JAVA_BYTE)).isEqualTo(expected);
                float[] back = g.readFloats(t), want = new float[64 * 3];
                Quant.dequantize(type, MemorySegment.ofArray(expected), 0, want, 0, 64 * 3);
                assertThat(back).isEqualTo(want);
            }
            assertThat(g.tensorData(g.tensor("w.Q4_K")).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(q4k);
            assertThat(g.readFloats(g.tensor("scalar"))).containsExactly(42f);
            assertThat(g.readFloats(g.tensor("vector"))).containsExactly(1, 2, 3, 4, 5);
            assertThat(g.getString("general.architecture")).isEqualTo("llama");
            assertThat(g.getLong("t.uint32")).isEqualTo(0xffffffffL);
            assertThatThrownBy(() -> g.getString("t.int8")).hasMessageContaining("t.int8").hasMessageContaining("INT8");
            assertThatThrownBy(() -> g.get("missing.key")).hasMessageContaining("missing.key");
            assertThat(g.getStrings("t.array.string")).containsExactly("a", "", "Ċ");
            assertThat(g.getFloats("t.array.float32")).containsExactly(0.25f, -0.0f, Float.NaN);
            assertThat(g.getInts("t.array.int32")).containsExactly(-5, 6, 7);
            assertThat(g.getInts("t.array.uint16")).containsExactly(7, 65535);
            assertThatThrownBy(() -> g.getInts("t.array.uint32")).hasMessageContaining("t.array.uint32[1] = 4294967294 does not fit an int");
            assertThatThrownBy(() -> g.getInts("t.array.float32")).hasMessageContaining("t.array.float32 is an array of FLOAT32");
            assertThatThrownBy(() -> g.getStrings("t.uint8")).hasMessageContaining("t.uint8 is UINT8, expected an array of [STRING]");
        }
        assertThat(Files.list(dir)).as("no temporary file left behind").containsExactly(file);
    }

    @Test
    void honoursACustomAlignment() throws IOException {
        GgufWriter w = new GgufWriter().put("general.alignment", GgufValue.uint32(256));
        w.addTensor("a", GgmlType.F32, new long[]{3}, new float[]{1, 2, 3});
        w.addTensor("b", GgmlType.Q8_0, new long[]{32}, random(new Random(1), 32));
        Path file = dir.resolve("aligned.gguf");
        w.write(file);
        try (GgufFile g = GgufFile.open(file)) {
            assertThat(g.alignment()).isEqualTo(256);
            assertThat(g.dataOffset() % 256).isZero();
            assertThat(g.tensor("b").offset()).isEqualTo(256);
            assertThat(g.readFloats(g.tensor("a"))).containsExactly(1, 2, 3);
        }
    }

    @Test
    void writerRejectsBadTensorsWithoutWritingAnything() {
        GgufWriter w = new GgufWriter();
        w.addTensor("a", GgmlType.F32, new long[]{2}, new float[]{1, 2});
        assertThatThrownBy(() -> w.addTensor("a", GgmlType.F32, new long[]{2}, new float[]{1, 2})).hasMessageContaining("duplicate tensor name a");
        assertThatThrownBy(() -> w.addTensor("q", GgmlType.Q8_0, new long[]{40, 2}, new float[80])).hasMessageContaining("multiple of 32");
        assertThatThrownBy(() -> w.addTensor("n", GgmlType.F32, new long[]{3, 2}, new float[5])).hasMessageContaining("hold 6 values");
        assertThatThrownBy(() -> w.addTensor("r", GgmlType.Q8_0, new long[]{32}, MemorySegment.ofArray(new byte[33]))).hasMessageContaining("takes 34 bytes");
    }

    @Test
    void aFailedWriteLeavesNoFileAndKeepsTheOldOne() throws IOException {
        Path file = dir.resolve("keep.gguf");
        Files.writeString(file, "old contents");
        GgufWriter w = new GgufWriter();
        w.addTensor("boom", GgmlType.F32, new long[]{4}, (GgufWriter.TensorData) dst -> { throw new IOException("source failed"); });
        assertThatThrownBy(() -> w.write(file)).hasMessageContaining("source failed");
        assertThat(Files.readString(file)).isEqualTo("old contents");
        assertThat(Files.list(dir)).containsExactly(file);
    }

    // ---- corrupt files, crafted byte by byte

    /** A little-endian byte builder for hand-made GGUF files. */
    static final class Raw {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Raw u8(int v) { out.write(v); return this; }
        Raw u32(long v) { out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array()); return this; }
        Raw u64(long v) { out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(v).array()); return this; }
        Raw str(String s) { byte[] b = s.getBytes(StandardCharsets.UTF_8); u64(b.length); out.writeBytes(b); return this; }
        Raw header(long nTensors, long nKv) { out.writeBytes("GGUF".getBytes(StandardCharsets.US_ASCII)); return u32(3).u64(nTensors).u64(nKv); }
        Raw tensor(String name, long[] dims, int type, long offset) {
            str(name).u32(dims.length);
            for (long d : dims) u64(d);
            return u32(type).u64(offset);
        }
        Raw padTo(int alignment) { while (out.size() % alignment != 0) out.write(0); return this; }
        Raw zeros(int n) { out.writeBytes(new byte[n]); return this; }
        byte[] bytes() { return out.toByteArray(); }
    }

    private Path save(String name, byte[] bytes) throws IOException {
        Path p = dir.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    /** Opening {@code bytes} fails with one IOException line naming the file and containing {@code message}. */
    private void assertCorrupt(byte[] bytes, String message) throws IOException {
        Path p = save("corrupt.gguf", bytes);
        assertThatThrownBy(() -> { try (GgufFile g = GgufFile.open(p)) { /* opened */ } })
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith(p.toString() + ": ")
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    /** A valid two-tensor file (F32 [4], Q8_0 [32]) with one string key. */
    private static Raw valid() {
        Raw r = new Raw().header(2, 1).str("general.name").u32(8).str("tiny")
                .tensor("a", new long[]{4}, 0, 0).tensor("b", new long[]{32}, 8, 32).padTo(32);
        return r.zeros(32 + 34);
    }

    @Test
    void theHandMadeFileIsValid() throws IOException {
        try (GgufFile g = GgufFile.open(save("valid.gguf", valid().bytes()))) {
            assertThat(g.tensors()).hasSize(2);
            assertThat(g.getString("general.name")).isEqualTo("tiny");
        }
    }

    @Test
    void rejectsBadMagicAndVersions() throws IOException {
        byte[] b = valid().bytes();
        b[0] = 'X';
        assertCorrupt(b, "not a GGUF file");
        assertCorrupt(new byte[0], "not a GGUF file (only 0 bytes");
        for (long version : new long[]{1, 4, 0x03000000L}) {
            byte[] v = valid().bytes();
            ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN).putInt(4, (int) version);
            assertCorrupt(v, "unsupported GGUF version " + version);
        }
        byte[] big = valid().bytes();
        ByteBuffer.wrap(big).order(ByteOrder.LITTLE_ENDIAN).putInt(4, 0x03000000);
        assertCorrupt(big, "big-endian");
    }

    @Test
    void everyTruncationIsAClearError() throws IOException {
        byte[] full = valid().bytes();
        for (int n = 0; n < full.length; n++) {
            Path p = save("cut.gguf", Arrays.copyOf(full, n));
            assertThatThrownBy(() -> { try (GgufFile g = GgufFile.open(p)) { /* opened */ } })
                    .as("file cut to %d of %d bytes", n, full.length)
                    .isInstanceOf(IOException.class).hasMessageStartingWith(p + ": ");
        }
    }

    @Test
    void rejectsAbsurdCountsAndLengthsWithoutAllocating() throws IOException {
        assertCorrupt(new Raw().header(1L << 60, 0).bytes(), "corrupt tensor count 1152921504606846976");
        assertCorrupt(new Raw().header(0, -1).bytes(), "corrupt metadata count 18446744073709551615");
        assertCorrupt(new Raw().header(0, 1).u64(1L << 40).zeros(32).bytes(), "metadata key 0: length 1099511627776 at offset 24 is longer than the 32 bytes left");
        assertCorrupt(new Raw().header(0, 1).str("k").u32(8).u64(Long.MAX_VALUE).bytes(), "corrupt metadata k: length");
        assertCorrupt(new Raw().header(0, 1).str("k").u32(9).u32(8).u64(1L << 50).bytes(), "corrupt metadata k array length");
        assertCorrupt(new Raw().header(0, 1).str("k").u32(9).u32(9).u64(1L << 50).bytes(), "corrupt metadata k array length");
        assertCorrupt(new Raw().header(0, 1).str("k").u32(13).u32(0).bytes(), "unknown value type 13");
        assertCorrupt(new Raw().header(0, 1).str("k").u32(9).u32(99).u64(0).bytes(), "unknown value type 99");
        Raw deep = new Raw().header(0, 1).str("k").u32(9);
        for (int i = 0; i < 20; i++) deep.u32(9).u64(1);
        assertCorrupt(deep.zeros(64).bytes(), "nests arrays");
    }

    @Test
    void rejectsBadTensorInfos() throws IOException {
        assertCorrupt(new Raw().header(1, 0).tensor("w", new long[]{32}, 3, 0).padTo(32).zeros(64).bytes(),
                "tensor w has unknown or unsupported ggml type 3");
        assertCorrupt(new Raw().header(1, 0).tensor("w", new long[]{1, 1, 1, 1, 1}, 0, 0).padTo(32).zeros(64).bytes(),
                "tensor w has 5 dimensions");
        assertCorrupt(new Raw().header(1, 0).tensor("w", new long[]{1L << 40, 1L << 40}, 0, 0).padTo(32).zeros(64).bytes(),
                "tensor w has absurd dimensions");
        assertCorrupt(new Raw().header(1, 0).tensor("w", new long[]{-1}, 0, 0).padTo(32).zeros(64).bytes(),
                "tensor w has absurd dimensions [18446744073709551615]");
        assertCorrupt(new Raw().header(1, 0).tensor("w", new long[]{40}, 8, 0).padTo(32).zeros(64).bytes(),
                "row length 40 is not a multiple of 32");
        assertCorrupt(new Raw().header(1, 0).tensor("w", new long[]{4}, 0, 8).padTo(32).zeros(64).bytes(),
                "tensor w offset 8 is not a multiple of the alignment 32");
        assertCorrupt(new Raw().header(1, 0).tensor("w", new long[]{1000}, 0, 0).padTo(32).zeros(64).bytes(),
                "tensor w (4000 bytes at data offset 0) runs past the end of the file");
        assertCorrupt(new Raw().header(1, 0).tensor("w", new long[]{4}, 0, 1L << 62).padTo(32).zeros(64).bytes(),
                "runs past the end");
        assertCorrupt(new Raw().header(2, 0).tensor("a", new long[]{16}, 0, 0).tensor("b", new long[]{4}, 0, 32).padTo(32).zeros(128).bytes(),
                "tensors a and b overlap");
        assertCorrupt(new Raw().header(2, 0).tensor("a", new long[]{4}, 0, 0).tensor("a", new long[]{4}, 0, 32).padTo(32).zeros(64).bytes(),
                "duplicate tensor name a");
        assertCorrupt(new Raw().header(0, 2).str("k").u32(4).u32(1).str("k").u32(4).u32(2).bytes(), "duplicate metadata key k");
        assertCorrupt(new Raw().header(0, 1).str("general.alignment").u32(4).u32(48).bytes(), "general.alignment 48 is not a power of two");
        assertCorrupt(new Raw().header(0, 1).str("general.alignment").u32(5).u32(64).bytes(), "general.alignment is INT32, expected UINT32");
    }

    @Test
    void randomByteFlipsGiveIOExceptionsOrValidFiles() throws IOException {
        byte[] valid = valid().bytes();
        Random rng = new Random(99);
        for (int trial = 0; trial < 300; trial++) {
            byte[] b = valid.clone();
            for (int k = 0; k < 1 + rng.nextInt(3); k++) b[rng.nextInt(b.length)] = (byte) rng.nextInt(256);
            Path p = save("flip.gguf", b);
            try (GgufFile g = GgufFile.open(p)) {
                for (GgufTensorInfo t : g.tensors()) g.readFloats(t); // whatever it says must be readable
            } catch (IOException e) {
                assertThat(e.getMessage()).startsWith(p + ": ").doesNotContain("\n");
            }
        }
    }
}
