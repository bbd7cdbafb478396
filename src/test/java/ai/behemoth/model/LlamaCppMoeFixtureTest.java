package ai.behemoth.model;

import ai.behemoth.format.GgufFile;
import ai.behemoth.tensor.quant.GgmlType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * A tiny Mixtral-style {@code llama} GGUF with random weights written by llama.cpp's gguf-py
 * ({@code tools/make_random_moe_gguf.py}) and quantised by {@code llama-quantize} (build 4748) to
 * Q8_0 and Q4_0 (Q4_0 stores {@code output.weight} as its Q8_0 fallback). The expected tokens are what
 * {@code llama-cli -n 24 --temp 0 -p "Hello MoE" -no-cnv -ctk f32 -ctv f32 -t 2} printed for the F32 file.
 */
class LlamaCppMoeFixtureTest {
    private static final String PROMPT = "Hello MoE";
    private static final int[] LLAMA_CLI_F32 = {61, 127, 39, 14, 95, 57, 151, 37, 225, 137, 233, 86, 114, 95, 162, 173,
            29, 14, 34, 115, 69, 35, 147, 175};

    private static Path fixture(String type) throws Exception {
        return Path.of(LlamaCppMoeFixtureTest.class.getResource("/gguf/random-moe-" + type + ".gguf").toURI());
    }

    @Test
    void f32GivesLlamaCliGreedyTokens() throws Exception {
        try (InferenceModel model = new InferenceModel(GgufWeights.load(fixture("f32"), null), InferenceModel.DEFAULT_CHUNK)) {
            assertThat(model.config().experts()).isEqualTo(4);
            Sequence seq = model.newSequence();
            float[] logits = model.prefill(seq, model.tokenizer().encode(PROMPT));
            int[] tokens = new int[LLAMA_CLI_F32.length];
            for (int i = 0; i < tokens.length; i++) {
                tokens[i] = argmax(logits);
                logits = model.decode(seq, tokens[i]);
            }
            assertThat(tokens).containsExactly(LLAMA_CLI_F32);
        }
    }

    /**
     * The blocks llama-quantize wrote, decoded by Behemoth, against gguf-py's own numpy dequantisation
     * ({@code gguf.quants.dequantize}): the sum of squares and the sum over every value of a tensor.
     * (llama.cpp quantises activations to Q8_0 before these products and Behemoth does not, so with
     * random routers the greedy tokens of the quantised files part from llama-cli's after a few steps.)
     */
    @ParameterizedTest
    @CsvSource({
            "q8_0, token_embd.weight, Q8_0, 16528.098171177262, -150.60208892822266",
            "q8_0, blk.0.attn_q.weight, Q8_0, 370.91118603751966, 0.8313789367675781",
            "q8_0, blk.1.ffn_down_exps.weight, Q8_0, 1463.0103787660737, 56.46817970275879",
            "q4_0, token_embd.weight, Q4_0, 16522.225927218795, -166.2227783203125",
            "q4_0, blk.0.attn_q.weight, Q4_0, 371.5701587125659, 0.10693359375",
            "q4_0, blk.1.ffn_down_exps.weight, Q4_0, 1466.8467182777822, 55.30859375"})
    void llamaQuantizeBlocksDecodeAsGgufPyDecodesThem(String file, String tensor, GgmlType type, double sumOfSquares, double sum) throws Exception {
        try (GgufFile f = GgufFile.open(fixture(file))) {
            assertThat(f.tensor(tensor).type()).isEqualTo(type);
            double squares = 0, total = 0;
            for (float v : f.readFloats(f.tensor(tensor))) {
                squares += (double) v * v;
                total += v;
            }
            assertThat(squares).isCloseTo(sumOfSquares, within(1e-9 * sumOfSquares));
            assertThat(total).isCloseTo(sum, within(1e-9 * Math.abs(sumOfSquares)));
        }
    }

    @ParameterizedTest
    @CsvSource({"q8_0", "q4_0"})
    void quantisedFilesLoadIntoTheEngine(String file) throws Exception {
        float[] logits = promptLogits(fixture(file));
        assertThat(logits).hasSize(258);
        for (float v : logits) assertThat(Float.isFinite(v)).isTrue();
    }

    private static float[] promptLogits(Path file) throws Exception {
        try (InferenceModel model = new InferenceModel(GgufWeights.load(file, null), InferenceModel.DEFAULT_CHUNK)) {
            return model.prefill(model.newSequence(), model.tokenizer().encode(PROMPT));
        }
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
