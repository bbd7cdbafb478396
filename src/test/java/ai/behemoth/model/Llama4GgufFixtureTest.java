package ai.behemoth.model;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tiny {@code llama4} GGUF with random weights written by llama.cpp's gguf-py
 * ({@code tools/make_random_llama4_gguf.py}), run over 8200 positions: past llama.cpp's fixed chunk
 * of 8192 on the RoPE layers and its temperature floor of 8192 on the NoPE layer. The script's
 * float64 Hugging Face Llama 4 forward gives the expected logits of the last positions, and the
 * logits without chunks and without temperature, which Behemoth's must be far from.
 */
class Llama4GgufFixtureTest {

    @Test
    void chunksAndTemperatureAsLlamaCppAndHuggingFaceDefineThem() throws Exception {
        Path gguf = GgufFixtures.file("random-llama4-f32.gguf");
        JsonNode expected = GgufFixtures.expected(gguf);
        try (InferenceModel model = new InferenceModel(GgufWeights.load(gguf, null), InferenceModel.DEFAULT_CHUNK)) {
            ModelConfig c = model.config();
            assertThat(c.context()).isEqualTo(8256); // no longer capped at 8191
            assertThat(c.nopeEvery()).isEqualTo(4);
            assertThat(c.attentionChunk()).isEqualTo(8192);
            int[] tokens = GgufFixtures.tokens(expected);
            int first = expected.get("first_kept").asInt();
            Sequence seq = model.newSequence();
            model.prefill(seq, java.util.Arrays.copyOf(tokens, first));
            float[][] logits = new float[tokens.length - first][];
            for (int t = first; t < tokens.length; t++) logits[t - first] = model.decode(seq, tokens[t]);
            assertThat(GgufFixtures.relativeError(logits, expected.get("logits"))).as("against Hugging Face Llama 4").isLessThan(1e-4);
            assertThat(GgufFixtures.relativeError(logits, expected.get("logits_without_chunks"))).as("against no chunks").isGreaterThan(1e-1);
            assertThat(GgufFixtures.relativeError(logits, expected.get("logits_without_temperature"))).as("against no temperature").isGreaterThan(1e-3);
        }
    }

    /**
     * The same model with Llama 4 Scout's RoPE scaling (factor 16 past the original context, here 64
     * so that it acts within 64 positions): llama.cpp's {@code rope_freqs.weight} on the RoPE layers
     * gives Hugging Face's logits with {@code rope_type} "llama3", far from those without it.
     */
    @Test
    void scoutsRopeScalingAsHuggingFaceDefinesIt() throws Exception {
        Path gguf = GgufFixtures.file("random-llama4-rope-f32.gguf");
        JsonNode expected = GgufFixtures.expected(gguf);
        try (InferenceModel model = new InferenceModel(GgufWeights.load(gguf, null), InferenceModel.DEFAULT_CHUNK)) {
            assertThat(model.weights().ropeFactors()).containsExactly(1, 1, 16, 16, 16, 16, 16, 16);
            int[] tokens = GgufFixtures.tokens(expected);
            int first = expected.get("first_kept").asInt();
            float[][] all = InferenceModelTest.allLogits(model, tokens, 7);
            float[][] logits = java.util.Arrays.copyOfRange(all, first, tokens.length);
            assertThat(GgufFixtures.relativeError(logits, expected.get("logits"))).as("against Hugging Face Llama 4, rope_type llama3").isLessThan(1e-4);
            assertThat(GgufFixtures.relativeError(logits, expected.get("logits_without_scaling"))).as("against no scaling").isGreaterThan(1e-1);
        }
    }
}
