package ai.behemoth.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tiny dense {@code qwen3} GGUF with random weights written by llama.cpp's gguf-py
 * ({@code tools/make_random_qwen3_gguf.py}, llama.cpp's tensor names and shapes), and the logits
 * that the script's float64 Hugging Face Qwen3 forward computes from the same weights: QK norm per
 * head before RoPE on halves, GQA, tied output. Behemoth's engine must give those logits.
 */
class Qwen3GgufFixtureTest {

    @Test
    void loadsAsQwen3AndGivesTheReferenceLogits() throws Exception {
        Path gguf = Path.of(Qwen3GgufFixtureTest.class.getResource("/gguf/random-qwen3-f32.gguf").toURI());
        JsonNode expected = new ObjectMapper().readTree(gguf.resolveSibling("random-qwen3-f32.json").toFile());
        try (InferenceModel model = new InferenceModel(GgufWeights.load(gguf, null), InferenceModel.DEFAULT_CHUNK)) {
            ModelConfig c = model.config();
            assertThat(c.qkNorm()).isEqualTo(ModelConfig.QkNorm.RMS_WEIGHT);
            assertThat(c.experts()).isZero();
            assertThat(c.tiedEmbeddings()).isTrue();
            assertThat(c.qDim()).isEqualTo(2 * c.dim()); // q wider than the model, as in Qwen3
            int[] tokens = new int[expected.get("tokens").size()];
            for (int i = 0; i < tokens.length; i++) tokens[i] = expected.get("tokens").get(i).asInt();
            float[][] logits = InferenceModelTest.allLogits(model, tokens, 5);
            double maxDiff = 0, maxRef = 0;
            for (int t = 0; t < tokens.length; t++) {
                JsonNode row = expected.get("logits").get(t);
                assertThat(logits[t]).hasSize(row.size());
                for (int v = 0; v < row.size(); v++) {
                    maxDiff = Math.max(maxDiff, Math.abs(logits[t][v] - row.get(v).asDouble()));
                    maxRef = Math.max(maxRef, Math.abs(row.get(v).asDouble()));
                }
            }
            assertThat(maxDiff / maxRef).as("max |Behemoth − reference| / max |reference|").isLessThan(1e-5);
        }
    }
}
