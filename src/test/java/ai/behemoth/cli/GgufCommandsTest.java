package ai.behemoth.cli;

import ai.behemoth.format.GgufFile;
import ai.behemoth.format.GgufValue;
import ai.behemoth.format.GgufValueType;
import ai.behemoth.format.GgufWriter;
import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Quant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class GgufCommandsTest {
    @TempDir
    Path dir;

    private final Map<String, float[]> values = new LinkedHashMap<>();

    /** A tiny llama-style file: embeddings, a norm, a matrix in F16, a router, an expert stack, an odd-width matrix. */
    private Path model(boolean withOutput) throws IOException {
        Random rng = new Random(1);
        GgufWriter w = new GgufWriter()
                .put("general.architecture", GgufValue.string("llama"))
                .put("llama.block_count", GgufValue.uint32(1))
                .put("t.big", GgufValue.uint64(-1L))
                .put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, List.of("<s>", "a", "b", "c", "d", "e", "f")));
        add(w, rng, "token_embd.weight", GgmlType.F32, 64, 10);
        add(w, rng, "blk.0.attn_norm.weight", GgmlType.F32, 64);
        add(w, rng, "blk.0.attn_q.weight", GgmlType.F16, 64, 64);
        add(w, rng, "blk.0.ffn_gate_inp.weight", GgmlType.F32, 64, 4);
        add(w, rng, "blk.0.ffn_gate_exps.weight", GgmlType.F32, 64, 32, 4);
        add(w, rng, "blk.0.odd.weight", GgmlType.F32, 48, 2);
        if (withOutput) add(w, rng, "output.weight", GgmlType.BF16, 64, 10);
        Path file = dir.resolve(withOutput ? "model.gguf" : "tied.gguf");
        w.write(file);
        return file;
    }

    private void add(GgufWriter w, Random rng, String name, GgmlType type, long... dims) {
        long n = 1;
        for (long d : dims) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextGaussian();
        // keep what the file really holds (after F16/BF16 rounding) as the reference
        byte[] enc = new byte[(int) (n / dims[0] * type.rowBytes(dims[0]))];
        for (int r = 0; r < n / dims[0]; r++) Quant.quantize(type, v, (int) (r * dims[0]), (int) dims[0], MemorySegment.ofArray(enc), r * type.rowBytes(dims[0]));
        Quant.dequantize(type, MemorySegment.ofArray(enc), 0, v, 0, (int) n);
        values.put(name, v);
        w.addTensor(name, type, dims, MemorySegment.ofArray(enc));
    }

    private float[] quantizedAs(GgmlType type, float[] v, int rowLength) {
        byte[] enc = new byte[(int) (v.length / rowLength * type.rowBytes(rowLength))];
        for (int r = 0; r < v.length / rowLength; r++)
            Quant.quantize(type, v, r * rowLength, rowLength, MemorySegment.ofArray(enc), r * type.rowBytes(rowLength));
        float[] out = new float[v.length];
        Quant.dequantize(type, MemorySegment.ofArray(enc), 0, out, 0, v.length);
        return out;
    }

    @Test
    void quantizesWeightMatricesAsLlamaQuantizeDoes() throws IOException {
        Path in = model(true), out = dir.resolve("q4.gguf");
        MainTest.Run r = MainTest.run("quantize", in.toString(), out.toString(), "--type", "q4_0");
        assertThat(r.code()).as(r.err()).isZero();
        try (GgufFile g = GgufFile.open(out); GgufFile src = GgufFile.open(in)) {
            Map<String, GgmlType> expected = Map.of(
                    "token_embd.weight", GgmlType.Q4_0, "blk.0.attn_norm.weight", GgmlType.F32,
                    "blk.0.attn_q.weight", GgmlType.Q4_0, "blk.0.ffn_gate_inp.weight", GgmlType.F32,
                    "blk.0.ffn_gate_exps.weight", GgmlType.Q4_0, "blk.0.odd.weight", GgmlType.F32,
                    "output.weight", GgmlType.Q8_0);
            assertThat(g.tensors()).hasSize(expected.size());
            for (var t : g.tensors()) {
                assertThat(t.type()).as(t.name()).isEqualTo(expected.get(t.name()));
                assertThat(t.dims()).as(t.name()).isEqualTo(src.tensor(t.name()).dims());
                float[] v = values.get(t.name());
                float[] want = t.type() == src.tensor(t.name()).type() ? v : quantizedAs(t.type(), v, (int) t.rowLength());
                assertThat(g.readFloats(t)).as(t.name()).isEqualTo(want);
            }
            assertThat(g.getLong("general.file_type")).isEqualTo(2);
            assertThat(g.getLong("general.quantization_version")).isEqualTo(2);
            assertThat(g.metadata()).containsAllEntriesOf(src.metadata());
        }
        assertThat(r.out()).contains("blk.0.attn_q.weight", "F16   -> Q4_0");
    }

    @Test
    void tiedEmbeddingsGetTheOutputType() throws IOException {
        Path in = model(false), out = dir.resolve("q4.gguf");
        assertThat(MainTest.run("quantize", in.toString(), out.toString(), "--type", "q4_0").code()).isZero();
        try (GgufFile g = GgufFile.open(out)) {
            assertThat(g.tensor("token_embd.weight").type()).isEqualTo(GgmlType.Q8_0);
            assertThat(g.tensor("blk.0.attn_q.weight").type()).isEqualTo(GgmlType.Q4_0);
        }
    }

    @Test
    void refusesToRequantizeUnlessAsked() throws IOException {
        Path in = model(true), q8 = dir.resolve("q8.gguf"), q4 = dir.resolve("q4.gguf");
        assertThat(MainTest.run("quantize", in.toString(), q8.toString(), "--type", "q8_0").code()).isZero();
        MainTest.Run r = MainTest.run("quantize", q8.toString(), q4.toString(), "--type", "q4_0");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("behemoth: error: " + q8 + ": tensor token_embd.weight is already Q8_0; pass --allow-requantize to re-encode it as Q4_0");
        assertThat(Files.exists(q4)).isFalse();
        assertThat(MainTest.run("quantize", q8.toString(), q4.toString(), "--type", "q4_0", "--allow-requantize").code()).isZero();
    }

    @Test
    void inspectPrintsMetadataAndTensors() throws IOException {
        Path in = model(true);
        MainTest.Run r = MainTest.run("inspect", "gguf", in.toString(), "--items", "3");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("GGUF v3", "7 tensors")
                .containsPattern("general\\.architecture\\s+STRING\\s+\"llama\"")
                .containsPattern("llama\\.block_count\\s+UINT32\\s+1")
                .containsPattern("t\\.big\\s+UINT64\\s+18446744073709551615")
                .contains("[STRING × 7] \"<s>\", \"a\", \"b\", …")
                .containsPattern("blk\\.0\\.ffn_gate_exps\\.weight\\s+F32\\s+64 × 32 × 4\\s+32768")
                .containsPattern("output\\.weight\\s+BF16\\s+64 × 10\\s+1280");
    }

    @Test
    void badFilesAndArgumentsAreOneLineErrors() throws IOException {
        MainTest.Run missing = MainTest.run("inspect", "gguf", dir.resolve("nope.gguf").toString());
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.err().strip()).isEqualTo("behemoth: error: no such file: " + dir.resolve("nope.gguf"));

        MainTest.Run directory = MainTest.run("inspect", "gguf", dir.toString());
        assertThat(directory.code()).isEqualTo(1);
        assertThat(directory.err().strip()).isEqualTo("behemoth: error: " + dir + ": not a regular file");

        Path junk = dir.resolve("junk.gguf");
        Files.writeString(junk, "not a model at all");
        MainTest.Run bad = MainTest.run("quantize", junk.toString(), dir.resolve("o.gguf").toString(), "--type", "q8_0");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err().strip()).startsWith("behemoth: error: " + junk + ": not a GGUF file").doesNotContain("\n");

        MainTest.Run type = MainTest.run("quantize", junk.toString(), dir.resolve("o.gguf").toString(), "--type", "q5_0");
        assertThat(type.code()).isEqualTo(2);
        assertThat(type.err()).contains("q5_0");
    }
}
