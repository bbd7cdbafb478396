package ai.behemoth.model;

import ai.behemoth.format.GgufFile;
import ai.behemoth.format.GgufTensorInfo;
import ai.behemoth.format.GgufValue;
import ai.behemoth.format.GgufWriter;
import ai.behemoth.tensor.quant.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The {@code <arch>.*} keys of real files as llama.cpp writes and reads them: linear RoPE scaling
 * (llama.cpp's {@code rope_freq_scale}) is applied, YaRN, partial rotation, and a Llama 4 chunk
 * pattern or SWA base Behemoth does not compute are refused by key, keys Behemoth has no use for are
 * ignored, and a 128-expert llama4 (Maverick) runs without QK norm as llama.cpp does.
 */
class GgufMetadataTest {
    @TempDir
    Path tmp;

    private Path export(String preset) throws IOException {
        return export(preset, TestCheckpoints.small(preset));
    }

    private Path export(String name, ModelConfig c) throws IOException {
        Path dir = tmp.resolve(name), gguf = tmp.resolve(name + ".gguf");
        if (!Files.exists(gguf)) {
            TestCheckpoints.write(dir, c, 5);
            GgufExport.export(dir, GgmlType.F32, gguf);
        }
        return gguf;
    }

    /** A copy of {@code src} with {@code put} added to its metadata and, when given, {@code rope_freqs.weight} of {@code factors}. */
    private Path with(Path src, String label, Map<String, GgufValue> put, float[] factors) throws IOException {
        Path out = tmp.resolve(label + "-" + src.getFileName());
        try (GgufFile f = GgufFile.open(src)) {
            GgufWriter w = new GgufWriter();
            f.metadata().forEach(w::put);
            put.forEach(w::put);
            for (GgufTensorInfo t : f.tensors()) w.addTensor(t.name(), t.type(), t.dims(), f.tensorData(t));
            if (factors != null) w.addTensor("rope_freqs.weight", GgmlType.F32, new long[]{factors.length}, factors);
            w.write(out);
        }
        return out;
    }

    private static float[][] logits(Path gguf, int[] tokens) throws IOException {
        try (InferenceModel model = new InferenceModel(GgufWeights.load(gguf, null), InferenceModel.DEFAULT_CHUNK)) {
            return InferenceModelTest.allLogits(model, tokens, 8);
        }
    }

    /** Linear scaling divides every frequency by its factor: the same as rope_freqs all equal to it; type none, or factor 0, scales nothing. */
    @Test
    void linearRopeScalingDividesEveryFrequency() throws Exception {
        Path plain = export("dense");
        int pairs = TestCheckpoints.small("dense").headDim() / 2;
        float[] fours = new float[pairs];
        Arrays.fill(fours, 4f);
        int[] tokens = InferenceModelTest.ids(3, 30);
        float[][] expected = logits(with(plain, "freqs", Map.of(), fours), tokens), unscaled = logits(plain, tokens);
        Path linear = with(plain, "linear", Map.of("llama.rope.scaling.type", GgufValue.string("linear"),
                "llama.rope.scaling.factor", GgufValue.float32(4f)), null);
        Path oldKey = with(plain, "old", Map.of("llama.rope.scale_linear", GgufValue.float32(4f)), null);
        Path none = with(plain, "none", Map.of("llama.rope.scaling.type", GgufValue.string("none"),
                "llama.rope.scaling.factor", GgufValue.float32(4f)), null);
        Path zero = with(plain, "zero", Map.of("llama.rope.scaling.factor", GgufValue.float32(0f)), null);
        try (ModelWeights w = GgufWeights.load(linear, null)) {
            assertThat(w.ropeFactors()).containsOnly(4f).hasSize(pairs);
        }
        assertThat(logits(linear, tokens)).isDeepEqualTo(expected);
        assertThat(logits(oldKey, tokens)).isDeepEqualTo(expected);
        assertThat(logits(none, tokens)).isDeepEqualTo(unscaled);
        assertThat(logits(zero, tokens)).isDeepEqualTo(unscaled);
        assertThat(expected[tokens.length - 1]).isNotEqualTo(unscaled[tokens.length - 1]);
    }

    /** Linear scaling and rope_freqs multiply, as llama.cpp divides the angle by both. */
    @Test
    void linearScalingAndRopeFreqsCombine() throws Exception {
        Path plain = export("dense");
        int pairs = TestCheckpoints.small("dense").headDim() / 2;
        float[] freqs = new float[pairs], product = new float[pairs];
        for (int i = 0; i < pairs; i++) {
            freqs[i] = 1 + i;
            product[i] = 2 * (1 + i);
        }
        Path both = with(plain, "both", Map.of("llama.rope.scaling.factor", GgufValue.float32(2f)), freqs);
        try (ModelWeights w = GgufWeights.load(both, null)) {
            assertThat(w.ropeFactors()).containsExactly(product);
        }
    }

    @Test
    void ropeScalingBehemothDoesNotComputeIsRefusedByKey() throws Exception {
        Path plain = export("qwen3");
        Path yarn = with(plain, "yarn", Map.of("qwen3.rope.scaling.type", GgufValue.string("yarn"),
                "qwen3.rope.scaling.factor", GgufValue.float32(4f), "qwen3.rope.scaling.original_context_length", GgufValue.uint32(32768)), null);
        assertThatThrownBy(() -> GgufWeights.load(yarn, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("qwen3.rope.scaling.type is 'yarn'");
        Path partial = with(plain, "partial", Map.of("qwen3.rope.dimension_count", GgufValue.uint32(8)), null);
        assertThatThrownBy(() -> GgufWeights.load(partial, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("qwen3.rope.dimension_count is 8; Behemoth rotates whole heads (16)");
        Path negative = with(plain, "negative", Map.of("qwen3.rope.scaling.factor", GgufValue.float32(-2f)), null);
        assertThatThrownBy(() -> GgufWeights.load(negative, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("qwen3.rope.scaling.factor is -2.0");
    }

    /**
     * The keys llama.cpp's converter writes for Llama 4 Scout load: the ones Behemoth reads under the
     * names llama.cpp reads, the chunk pattern and SWA base at the values Behemoth computes, and keys
     * it has no use for (expert_shared_count, general.*, quantization_version) ignored.
     */
    @Test
    void scoutsKeysLoadAndTheOnesBehemothCannotComputeAreRefused() throws Exception {
        Path plain = export("llama4");
        ModelConfig expected;
        try (ModelWeights w = GgufWeights.load(plain, null)) {
            expected = w.config();
        }
        Path scout = with(plain, "scout", Map.of(
                "llama4.rope.dimension_count", GgufValue.uint32(16),
                "llama4.attention.sliding_window_pattern", GgufValue.uint32(4),
                "llama4.rope.freq_base_swa", GgufValue.float32(500000f),
                "llama4.expert_shared_count", GgufValue.uint32(1),
                "general.quantization_version", GgufValue.uint32(2),
                "general.size_label", GgufValue.string("17B-16E")), new float[]{1, 1, 1, 1, 1, 1, 16, 16});
        try (ModelWeights w = GgufWeights.load(scout, null)) {
            assertThat(w.config()).isEqualTo(expected);
            assertThat(w.ropeFactors()).containsExactly(1, 1, 1, 1, 1, 1, 16, 16);
        }
        Path pattern = with(plain, "pattern", Map.of("llama4.attention.sliding_window_pattern", GgufValue.uint32(2)), null);
        assertThatThrownBy(() -> GgufWeights.load(pattern, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("llama4.attention.sliding_window_pattern is 2");
        Path base = with(plain, "base", Map.of("llama4.rope.freq_base_swa", GgufValue.float32(10000f)), null);
        assertThatThrownBy(() -> GgufWeights.load(base, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("llama4.rope.freq_base_swa 10000.0 differs from rope.freq_base 500000.0");
    }

    /** llama.cpp's llama4 takes 128 experts for Maverick and skips the QK norm; export and load agree with it. */
    @Test
    void maverickRunsWithoutQkNorm() throws Exception {
        ModelConfig.Builder b = TestCheckpoints.small("llama4").toBuilder();
        b.experts = 128;
        b.expertHidden = 8;
        b.sharedExpertHidden = 8;
        ModelConfig withNorm = b.build();
        assertThatThrownBy(() -> GgufArchitecture.of(withNorm, false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("skips the QK norm with 128 experts (Maverick)");
        b.qkNorm = ModelConfig.QkNorm.NONE;
        ModelConfig maverick = b.build();
        assertThat(GgufArchitecture.of(maverick, false)).isEqualTo(GgufArchitecture.LLAMA4);
        try (ModelWeights w = GgufWeights.load(export("maverick", maverick), null)) {
            assertThat(w.config().qkNorm()).isEqualTo(ModelConfig.QkNorm.NONE);
            assertThat(w.config().experts()).isEqualTo(128);
        }
        assertThat(GgufArchitecture.llama4QkNorm(16)).isEqualTo(ModelConfig.QkNorm.RMS); // Scout
    }
}
