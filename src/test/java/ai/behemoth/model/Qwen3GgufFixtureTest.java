package ai.behemoth.model;

import com.fasterxml.jackson.databind.JsonNode;
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
        Path gguf = GgufFixtures.file("random-qwen3-f32.gguf");
        JsonNode expected = GgufFixtures.expected(gguf);
        try (InferenceModel model = new InferenceModel(GgufWeights.load(gguf, null), InferenceModel.DEFAULT_CHUNK)) {
            ModelConfig c = model.config();
            assertThat(c.qkNorm()).isEqualTo(ModelConfig.QkNorm.RMS_WEIGHT);
            assertThat(c.experts()).isZero();
            assertThat(c.tiedEmbeddings()).isTrue();
            assertThat(c.qDim()).isEqualTo(2 * c.dim()); // q wider than the model, as in Qwen3
            float[][] logits = InferenceModelTest.allLogits(model, GgufFixtures.tokens(expected), 5);
            assertThat(GgufFixtures.relativeError(logits, expected.get("logits"))).as("max |Behemoth − reference| / max |reference|")
                    .isLessThan(1e-5);
        }
    }
}
