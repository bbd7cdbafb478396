package ai.behemoth.model;

import ai.behemoth.format.GgufFile;
import ai.behemoth.format.GgufTensorInfo;
import ai.behemoth.format.GgufWriter;
import ai.behemoth.tensor.quant.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Checkpoint → GGUF → engine: the same logits; and a file that does not fit its config is refused by name. */
class GgufRoundTripTest {
    @TempDir
    Path tmp;

    private float[][] logits(ModelWeights weights, int[] tokens) {
        try (InferenceModel model = new InferenceModel(weights, InferenceModel.DEFAULT_CHUNK)) {
            return InferenceModelTest.allLogits(model, tokens, 8);
        }
    }

    private Path export(String preset, GgmlType type) throws IOException {
        Path dir = tmp.resolve(preset);
        if (!Files.exists(dir)) TestCheckpoints.write(dir, TestCheckpoints.small(preset), 7);
        Path gguf = tmp.resolve(preset + "-" + type + ".gguf");
        GgufExport.export(dir, type, gguf);
        return gguf;
    }

    /**
     * The F32 file holds the checkpoint's weights bit for bit, which makes the engine's logits the
     * same function of the same bits: they match to the bit (the kernels keep their bits while the
     * JIT compiles them, see InferenceDeterminismTest).
     */
    @ParameterizedTest
    @ValueSource(strings = {"tiny", "mixtral", "dense", "qwen3moe", "llama4", "qwen3"})
    void f32HoldsTheCheckpointsWeightsBitForBit(String preset) throws Exception {
        Path gguf = export(preset, GgmlType.F32);
        int[] tokens = InferenceModelTest.ids(3, 19);
        ModelWeights ckpt = CheckpointWeights.load(tmp.resolve(preset), null), loaded = GgufWeights.load(gguf, null);
        ModelConfig c = ckpt.config(), g = loaded.config();
        assertThat(g.toBuilder().build()).usingRecursiveComparison().ignoringFields("ffnHidden", "initStd", "moeEvery", "normEps").isEqualTo(c);
        assertThat((float) g.normEps()).isEqualTo((float) c.normEps()); // GGUF holds it as FLOAT32; the engine uses a float
        if (c.experts() > 0) assertThat(g.moeEvery()).isEqualTo(c.moeEvery());
        assertSameMatrix(loaded.embedding(), ckpt.embedding());
        assertSameMatrix(loaded.output(), ckpt.output());
        assertThat(loaded.norm()).isEqualTo(ckpt.norm());
        for (int l = 0; l < c.layers(); l++) {
            LayerWeights a = loaded.layers().get(l), b = ckpt.layers().get(l);
            assertThat(a.attentionNorm()).isEqualTo(b.attentionNorm());
            assertThat(a.ffnNorm()).isEqualTo(b.ffnNorm());
            assertThat(a.qNorm()).isEqualTo(b.qNorm());
            assertThat(a.kNorm()).isEqualTo(b.kNorm());
            for (Matrix[] pair : new Matrix[][]{{a.wq(), b.wq()}, {a.wk(), b.wk()}, {a.wv(), b.wv()}, {a.wo(), b.wo()},
                    {a.gate(), b.gate()}, {a.up(), b.up()}, {a.down(), b.down()}, {a.router(), b.router()},
                    {a.expertGate(), b.expertGate()}, {a.expertUp(), b.expertUp()}, {a.expertDown(), b.expertDown()},
                    {a.sharedGate(), b.sharedGate()}, {a.sharedUp(), b.sharedUp()}, {a.sharedDown(), b.sharedDown()}})
                assertSameMatrix(pair[0], pair[1]);
        }
        float[][] expected = logits(ckpt, tokens), actual = logits(loaded, tokens);
        for (int t = 0; t < tokens.length; t++) assertThat(actual[t]).as("position %d", t).isEqualTo(expected[t]);
    }

    private static void assertSameMatrix(Matrix actual, Matrix expected) {
        if (expected == null) {
            assertThat(actual).isNull();
            return;
        }
        assertThat(actual.rows()).as(expected.name()).isEqualTo(expected.rows());
        assertThat(actual.cols()).as(expected.name()).isEqualTo(expected.cols());
        assertThat(actual.type()).as(expected.name()).isEqualTo(expected.type());
        assertThat(actual.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).as(expected.name())
                .isEqualTo(expected.data().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
    }

    @ParameterizedTest
    @CsvSource({"F16, 2e-3", "Q8_0, 2e-2", "Q4_0, 2e-1"})
    void quantisedExportsStayClose(GgmlType type, double tolerance) throws Exception {
        Path gguf = export("mixtral", type);
        int[] tokens = InferenceModelTest.ids(5, 12);
        float[][] expected = logits(CheckpointWeights.load(tmp.resolve("mixtral"), null), tokens);
        try (GgufFile f = GgufFile.open(gguf)) {
            assertThat(f.tensor("blk.0.ffn_gate_exps.weight").type()).isEqualTo(type);
            assertThat(f.tensor("blk.0.ffn_gate_inp.weight").type()).isEqualTo(GgmlType.F32);
            assertThat(f.tensor("blk.0.ffn_down_exps.weight").dims()).containsExactly(64, 64, 8);
        }
        {
            float[][] actual = logits(GgufWeights.load(gguf, null), tokens);
            double maxDiff = 0, maxRef = 0;
            for (int t = 0; t < tokens.length; t++)
                for (int i = 0; i < expected[t].length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(actual[t][i] - expected[t][i]));
                    maxRef = Math.max(maxRef, Math.abs(expected[t][i]));
                }
            assertThat(maxDiff / maxRef).isLessThan(tolerance).isGreaterThan(0);
        }
    }

    @Test
    void permutationIsTheConvertersReshapeSwapaxes() {
        // HF → GGUF: w.reshape(heads, 2, hd/2, cols).swapaxes(1, 2): stored (h, i, j) ← original (h, j, i).
        int heads = 3, hd = 8;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < hd / 2; i++)
                for (int j = 0; j < 2; j++) {
                    int stored = (h * hd / 2 + i) * 2 + j, original = (h * 2 + j) * hd / 2 + i;
                    assertThat(GgufArchitecture.originalRow(stored, hd)).isEqualTo(original);
                    assertThat(GgufArchitecture.storedRow(original, hd)).isEqualTo(stored);
                }
    }

    @Test
    void exportedQRowsArePermutedForLlamaAndNotForQwen3moe() throws Exception {
        Path llama = export("mixtral", GgmlType.F32), qwen = export("qwen3moe", GgmlType.F32);
        try (ModelWeights ckpt = CheckpointWeights.load(tmp.resolve("mixtral"), null); GgufFile f = GgufFile.open(llama)) {
            float[] stored = f.readFloats(f.tensor("blk.1.attn_q.weight"));
            int cols = ckpt.config().dim(), hd = ckpt.config().headDim();
            float[] row = new float[cols];
            ckpt.layers().get(1).wq().row(1, row, 0); // head 0, i = 1, first half → stored row 2
            assertThat(java.util.Arrays.copyOfRange(stored, 2 * cols, 3 * cols)).isEqualTo(row);
            ckpt.layers().get(1).wq().row(hd / 2, row, 0); // head 0, i = 0, second half → stored row 1
            assertThat(java.util.Arrays.copyOfRange(stored, cols, 2 * cols)).isEqualTo(row);
        }
        try (ModelWeights ckpt = CheckpointWeights.load(tmp.resolve("qwen3moe"), null); GgufFile f = GgufFile.open(qwen)) {
            float[] stored = f.readFloats(f.tensor("blk.0.attn_k.weight"));
            int cols = ckpt.config().dim();
            float[] row = new float[cols];
            ckpt.layers().get(0).wk().row(1, row, 0);
            assertThat(java.util.Arrays.copyOfRange(stored, cols, 2 * cols)).isEqualTo(row);
        }
    }

    /** A copy of {@code src} whose tensors pass through {@code change} (null drops one). */
    private Path rewrite(Path src, String name, UnaryOperator<GgufTensorInfo> change) throws IOException {
        Path out = tmp.resolve("bad-" + name + ".gguf");
        try (GgufFile f = GgufFile.open(src)) {
            GgufWriter w = new GgufWriter();
            f.metadata().forEach(w::put);
            for (GgufTensorInfo t : f.tensors()) {
                GgufTensorInfo c = t.name().equals(name) ? change.apply(t) : t;
                if (c == null) continue;
                if (c.elements() == t.elements()) w.addTensor(c.name(), c.type(), c.dims(), f.tensorData(t));
                else w.addTensor(c.name(), c.type(), c.dims(), new float[(int) c.elements()]);
            }
            w.write(out);
        }
        return out;
    }

    @Test
    void aMissingExtraOrMisshapenTensorIsNamed() throws Exception {
        Path good = export("mixtral", GgmlType.F32);
        String name = "blk.2.ffn_up_exps.weight";
        Path missing = rewrite(good, name, t -> null);
        assertThatThrownBy(() -> GgufWeights.load(missing, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("missing tensor " + name);
        Path extra = rewrite(good, "output_norm.weight", t -> t);
        try (GgufFile f = GgufFile.open(good)) {
            GgufWriter w = new GgufWriter();
            f.metadata().forEach(w::put);
            for (GgufTensorInfo t : f.tensors()) w.addTensor(t.name(), t.type(), t.dims(), f.tensorData(t));
            w.addTensor("blk.9.attn_q.weight", GgmlType.F32, new long[]{4}, new float[4]);
            w.write(extra);
        }
        assertThatThrownBy(() -> GgufWeights.load(extra, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("unexpected tensor blk.9.attn_q.weight");
        Path misshapen = rewrite(good, name, t -> new GgufTensorInfo(name, new long[]{64, 32, 8}, t.type(), 0));
        assertThatThrownBy(() -> GgufWeights.load(misshapen, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("tensor " + name + " has dims [64, 32, 8], the config needs [64, 64, 8]");
    }

    /** A dense config with weighted QK norm is llama.cpp's qwen3: its norms stored per head dimension, Q and K rows as they are. */
    @Test
    void qwen3HoldsItsQkNormsAndAMissingOrMisshapenOneIsNamed() throws Exception {
        Path good = export("qwen3", GgmlType.F32);
        try (ModelWeights ckpt = CheckpointWeights.load(tmp.resolve("qwen3"), null); GgufFile f = GgufFile.open(good)) {
            assertThat(f.getString("general.architecture")).isEqualTo("qwen3");
            assertThat(f.metadata()).doesNotContainKey("qwen3.expert_count");
            assertThat(f.tensor("blk.1.attn_q_norm.weight").dims()).containsExactly(16);
            assertThat(f.readFloats(f.tensor("blk.1.attn_k_norm.weight"))).isEqualTo(ckpt.layers().get(1).kNorm());
            assertThat(f.tensor("blk.1.ffn_gate.weight").dims()).containsExactly(64, 96);
            float[] stored = f.readFloats(f.tensor("blk.0.attn_q.weight")), row = new float[64];
            ckpt.layers().get(0).wq().row(1, row, 0); // rotating halves, as Behemoth does: no permutation
            assertThat(java.util.Arrays.copyOfRange(stored, 64, 128)).isEqualTo(row);
        }
        String name = "blk.2.attn_k_norm.weight";
        Path missing = rewrite(good, name, t -> null);
        assertThatThrownBy(() -> GgufWeights.load(missing, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("missing tensor " + name);
        Path misshapen = rewrite(good, name, t -> new GgufTensorInfo(name, new long[]{8}, t.type(), 0));
        assertThatThrownBy(() -> GgufWeights.load(misshapen, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("tensor " + name + " has dims [8], the config needs [16]");
        Path misshapenFfn = rewrite(good, "blk.0.ffn_down.weight", t -> new GgufTensorInfo(t.name(), new long[]{64, 64}, t.type(), 0));
        assertThatThrownBy(() -> GgufWeights.load(misshapenFfn, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("tensor blk.0.ffn_down.weight has dims [64, 64], the config needs [96, 64]");
    }

    /**
     * llama4 with NoPE layers reads back with llama.cpp's fixed chunks and temperature; without them
     * ({@code attention.sliding_window} 0) with neither, as a config that chunks nothing exports.
     */
    @Test
    void llama4ChunksAndTemperatureComeFromTheNopeSetting() throws Exception {
        try (ModelWeights w = GgufWeights.load(export("llama4", GgmlType.F32), null)) {
            assertThat(w.config().nopeEvery()).isEqualTo(4);
            assertThat(w.config().attentionChunk()).isEqualTo(8192);
            assertThat(w.config().temperatureFloor()).isEqualTo(8192);
            assertThat(w.config().temperatureScale()).isEqualTo(0.1);
        }
        ModelConfig.Builder b = TestCheckpoints.small("llama4").toBuilder();
        b.nopeEvery = 0;
        b.attentionChunk = 0;
        b.temperatureFloor = 0;
        b.temperatureScale = 0;
        TestCheckpoints.write(tmp.resolve("llama4-rope"), b.build(), 3);
        Path gguf = tmp.resolve("llama4-rope.gguf");
        GgufExport.export(tmp.resolve("llama4-rope"), GgmlType.F32, gguf);
        try (GgufFile f = GgufFile.open(gguf)) {
            assertThat(f.getLong("llama4.attention.sliding_window")).isZero();
        }
        try (ModelWeights w = GgufWeights.load(gguf, null)) {
            assertThat(w.config()).usingRecursiveComparison().ignoringFields("normEps").isEqualTo(b.build()); // normEps: FLOAT32 in GGUF
        }
    }

    @Test
    void quantiseOnLoadGivesTheSameBlocksAsFromTheCheckpoint() throws Exception {
        Path gguf = export("mixtral", GgmlType.F32); // Q/K rows stored permuted: put back, then quantised
        try (ModelWeights a = GgufWeights.load(gguf, GgmlType.Q8_0); ModelWeights b = CheckpointWeights.load(tmp.resolve("mixtral"), GgmlType.Q8_0)) {
            assertSameMatrix(a.layers().get(2).expertDown(), b.layers().get(2).expertDown());
            assertSameMatrix(a.layers().get(0).wq(), b.layers().get(0).wq());
            assertThat(a.layers().get(0).wq().type()).isEqualTo(GgmlType.Q8_0);
        }
    }

    @Test
    void anArchitectureBehemothDoesNotRunIsNamed() throws Exception {
        Path good = export("dense", GgmlType.F32), other = tmp.resolve("gpt2.gguf");
        try (GgufFile f = GgufFile.open(good)) {
            GgufWriter w = new GgufWriter();
            f.metadata().forEach(w::put);
            w.put("general.architecture", ai.behemoth.format.GgufValue.string("gpt2"));
            for (GgufTensorInfo t : f.tensors()) w.addTensor(t.name(), t.type(), t.dims(), f.tensorData(t));
            w.write(other);
        }
        assertThatThrownBy(() -> GgufWeights.load(other, null)).isInstanceOf(IOException.class)
                .hasMessageContaining(other + ": general.architecture is 'gpt2'");
    }

    @Test
    void configsLlamaCppCannotRepresentAreRefusedWithAReason() throws Exception {
        ModelConfig.Builder b = TestCheckpoints.small("llama4").toBuilder();
        b.routerWeight = ModelConfig.RouterWeight.OUTPUT;
        TestCheckpoints.write(tmp.resolve("sigmoid-output"), b.build(), 1);
        assertThatThrownBy(() -> GgufExport.export(tmp.resolve("sigmoid-output"), GgmlType.F32, tmp.resolve("x.gguf")))
                .isInstanceOf(IOException.class).hasMessageContaining("router_weight input");
        ModelConfig.Builder r = TestCheckpoints.small("mixtral").toBuilder();
        r.renormTopK = false;
        TestCheckpoints.write(tmp.resolve("no-renorm"), r.build(), 1);
        assertThatThrownBy(() -> GgufExport.export(tmp.resolve("no-renorm"), GgmlType.F32, tmp.resolve("x.gguf")))
                .isInstanceOf(IOException.class).hasMessageContaining("without renormalised top-k");
        // Checked on the config alone: a training model of that context would not fit a test.
        ModelConfig.Builder l = TestCheckpoints.small("llama4").toBuilder();
        l.context = 9000;
        assertThat(GgufArchitecture.of(l.build(), false)).isEqualTo(GgufArchitecture.LLAMA4); // Scout's chunks and temperature
        l.attentionChunk = 0; // a llama4 trained before chunks existed: fine up to 8191 positions, not beyond
        l.temperatureFloor = 0;
        l.temperatureScale = 0;
        ModelConfig unchunked = l.build();
        assertThatThrownBy(() -> GgufArchitecture.of(unchunked, false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("llama.cpp's llama4 attends in chunks of 8192")
                .hasMessageContaining("attention_chunk 0, temperature_floor 0 and temperature_scale 0.0, which differ within its context of 9000");
        l.context = 8191;
        assertThat(GgufArchitecture.of(l.build(), false)).isEqualTo(GgufArchitecture.LLAMA4);
        l.attentionChunk = 4;
        ModelConfig smallChunks = l.build();
        assertThatThrownBy(() -> GgufArchitecture.of(smallChunks, false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("attention_chunk 4");
        ModelConfig.Builder q = TestCheckpoints.small("qwen3").toBuilder();
        q.attentionChunk = 16;
        ModelConfig chunkedQwen3 = q.build();
        assertThatThrownBy(() -> GgufArchitecture.of(chunkedQwen3, false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("qwen3 and qwen3moe attend to the whole context");
        assertThat(tmp.resolve("x.gguf")).doesNotExist();
    }
}
