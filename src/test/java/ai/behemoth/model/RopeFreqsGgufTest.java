package ai.behemoth.model;

import ai.behemoth.format.GgufFile;
import ai.behemoth.format.GgufTensorInfo;
import ai.behemoth.format.GgufWriter;
import ai.behemoth.tensor.quant.GgmlType;
import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code rope_freqs.weight}, the per-pair RoPE frequency divisors that llama.cpp's converter writes
 * for Llama 3.1+ and Llama 4 (Hugging Face {@code rope_type} "llama3"): a tiny {@code llama} GGUF
 * written by llama.cpp's gguf-py ({@code tools/make_random_llama3_rope_gguf.py}) gives the logits of
 * the script's float64 Hugging Face Llama forward with that scaling; factors of 1 are no factors.
 */
class RopeFreqsGgufTest {
    private static final String ROPE_FREQS = "rope_freqs.weight";

    @TempDir
    Path tmp;

    private static Path fixture() throws Exception {
        return GgufFixtures.file("random-llama3-rope-f32.gguf");
    }

    @Test
    void llama3ScalingGivesHuggingFacesLogits() throws Exception {
        Path gguf = fixture();
        JsonNode expected = GgufFixtures.expected(gguf);
        int[] tokens = GgufFixtures.tokens(expected);
        try (InferenceModel model = new InferenceModel(GgufWeights.load(gguf, null), InferenceModel.DEFAULT_CHUNK)) {
            float[] factors = model.weights().ropeFactors();
            assertThat(factors).hasSize(8);
            for (int i = 0; i < factors.length; i++) assertThat(factors[i]).isEqualTo((float) expected.get("factors").get(i).asDouble());
            float[][] logits = InferenceModelTest.allLogits(model, tokens, 5);
            // float32 sums against float64 ones: ~1e-5; plain RoPE is off by order 1
            assertThat(GgufFixtures.relativeError(logits, expected.get("logits"))).as("against Hugging Face Llama, rope_type llama3").isLessThan(3e-5);
            assertThat(GgufFixtures.relativeError(logits, expected.get("logits_without_scaling"))).as("against plain RoPE").isGreaterThan(1e-1);
        }
    }

    /** Factors of exactly 1 divide nothing: the logits are those of the file without the tensor, bit for bit. */
    @Test
    void factorsOfOneAreNoFactors() throws Exception {
        float[] ones = new float[8];
        Arrays.fill(ones, 1f);
        Path withOnes = withRopeFreqs(fixture(), "ones", new long[]{8}, ones), without = withRopeFreqs(fixture(), "none", null, null);
        int[] tokens = InferenceModelTest.ids(5, 40);
        try (ModelWeights a = GgufWeights.load(withOnes, null); ModelWeights b = GgufWeights.load(without, null)) {
            assertThat(a.ropeFactors()).containsExactly(ones);
            assertThat(b.ropeFactors()).isNull();
            float[][] la = logits(a, tokens), lb = logits(b, tokens);
            for (int t = 0; t < tokens.length; t++) assertThat(la[t]).as("position %d", t).isEqualTo(lb[t]);
        }
    }

    /**
     * llama4 takes the factors too (Scout's file has them; llama.cpp applies them on its RoPE layers,
     * the NoPE layers turn nothing): factors like Scout's change the logits past position 0, factors
     * of 1 change nothing.
     */
    @Test
    void llama4TakesTheFactorsAndOnesChangeNothing() throws Exception {
        Path dir = tmp.resolve("llama4");
        ModelConfig c = TestCheckpoints.small("llama4");
        TestCheckpoints.write(dir, c, 11);
        Path exported = tmp.resolve("llama4.gguf");
        GgufExport.export(dir, GgmlType.F32, exported);
        int pairs = c.headDim() / 2;
        float[] ones = new float[pairs], scout = new float[pairs];
        Arrays.fill(ones, 1f);
        for (int i = 0; i < pairs; i++) scout[i] = i == 0 ? 1f : 16f; // as Scout: the shortest wavelengths 1, the long ones its factor 16
        int[] tokens = InferenceModelTest.ids(9, 24);
        try (ModelWeights plain = GgufWeights.load(exported, null);
             ModelWeights unit = GgufWeights.load(withRopeFreqs(exported, "ones", new long[]{pairs}, ones), null);
             ModelWeights scaled = GgufWeights.load(withRopeFreqs(exported, "scout", new long[]{pairs}, scout), null)) {
            assertThat(scaled.ropeFactors()).containsExactly(scout);
            float[][] lp = logits(plain, tokens), lu = logits(unit, tokens), ls = logits(scaled, tokens);
            for (int t = 0; t < tokens.length; t++) assertThat(lu[t]).isEqualTo(lp[t]);
            assertThat(lp[0]).as("position 0 turns by no angle").isEqualTo(ls[0]);
            assertThat(maxAbsDiff(ls[tokens.length - 1], lp[tokens.length - 1])).as("the last position turns less").isGreaterThan(1e-3);
        }
    }

    @Test
    void aMisshapenOrNonPositiveRopeFreqsIsNamed() throws Exception {
        Path wrongShape = withRopeFreqs(fixture(), "shape", new long[]{16}, new float[16]);
        assertThatThrownBy(() -> GgufWeights.load(wrongShape, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("tensor rope_freqs.weight has dims [16], the config needs [8]");
        float[] zero = {1, 1, 1, 0, 8, 8, 8, 8};
        Path zeroFactor = withRopeFreqs(fixture(), "zero", new long[]{8}, zero);
        assertThatThrownBy(() -> GgufWeights.load(zeroFactor, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("rope_freqs.weight holds 0.0 at 3");
    }

    /** qwen3 RoPE has no factors in llama.cpp: the tensor is as unexpected there as any other. */
    @Test
    void qwen3RefusesRopeFreqs() throws Exception {
        Path qwen3 = Path.of(RopeFreqsGgufTest.class.getResource("/gguf/random-qwen3-f32.gguf").toURI());
        Path with = withRopeFreqs(qwen3, "qwen3", new long[]{8}, new float[]{1, 1, 1, 1, 1, 1, 1, 1});
        assertThatThrownBy(() -> GgufWeights.load(with, null)).isInstanceOf(IOException.class)
                .hasMessageContaining("unexpected tensor rope_freqs.weight");
    }

    /** A copy of {@code src} whose {@code rope_freqs.weight} is {@code values} with {@code dims} (none when null). */
    private Path withRopeFreqs(Path src, String label, long[] dims, float[] values) throws IOException {
        Path out = tmp.resolve(label + "-" + src.getFileName());
        try (GgufFile f = GgufFile.open(src)) {
            GgufWriter w = new GgufWriter();
            f.metadata().forEach(w::put);
            for (GgufTensorInfo t : f.tensors())
                if (!t.name().equals(ROPE_FREQS)) w.addTensor(t.name(), t.type(), t.dims(), f.tensorData(t));
            if (values != null) w.addTensor(ROPE_FREQS, GgmlType.F32, dims, values);
            w.write(out);
        }
        return out;
    }

    private static float[][] logits(ModelWeights weights, int[] tokens) {
        InferenceModel model = new InferenceModel(weights, InferenceModel.DEFAULT_CHUNK);
        return InferenceModelTest.allLogits(model, tokens, 8);
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }
}
