package ai.behemoth.generate;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.Sequence;
import ai.behemoth.model.TestCheckpoints;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Generation on a small random checkpoint: greedy, seeds, stop strings, limits and prompt errors. */
class GenerationTest {
    @TempDir
    static Path tmp;
    static Path checkpoint;

    @BeforeAll
    static void writeCheckpoint() throws Exception {
        checkpoint = tmp.resolve("tiny");
        TestCheckpoints.write(checkpoint, TestCheckpoints.small("tiny"), 21);
    }

    @Test
    void greedyFollowsTheArgmaxOfTheEngineLogits() throws Exception {
        try (LanguageModel model = LanguageModel.load(checkpoint)) {
            Generation g = model.generate("Hello", GenerateOptions.greedy().withMaxTokens(6));
            List<Integer> ids = new ArrayList<>();
            g.forEachRemaining(t -> ids.add(t.id()));
            assertThat(ids).hasSize(6);
            assertThat(g.finishReason()).isEqualTo(FinishReason.LENGTH);

            Sequence seq = model.engine().newSequence();
            float[] logits = model.engine().prefill(seq, model.tokenizer().encode("Hello"));
            for (int id : ids) {
                assertThat(id).isEqualTo(Sampler.argmax(logits));
                logits = model.engine().decode(seq, id);
            }
        }
    }

    @Test
    void sameSeedGivesTheSameTextAndAnotherSeedDiffers() throws Exception {
        try (LanguageModel model = LanguageModel.load(checkpoint)) {
            GenerateOptions o = GenerateOptions.defaults().withTemperature(1.5).withTopK(0).withTopP(1).withMinP(0).withMaxTokens(24);
            String a = model.generate("The", o.withSeed(5L)).text();
            String b = model.generate("The", o.withSeed(5L)).text();
            String c = model.generate("The", o.withSeed(6L)).text();
            assertThat(a).isEqualTo(b);
            assertThat(c).isNotEqualTo(a);
        }
    }

    @Test
    void stopStringAcrossTokensEndsTheTextBeforeIt() throws Exception {
        try (LanguageModel model = LanguageModel.load(checkpoint)) {
            GenerateOptions o = GenerateOptions.defaults().withTemperature(1.2).withTopK(0).withTopP(1).withMinP(0)
                    .withSeed(3L).withMaxTokens(30);
            Generation full = model.generate("abc", o);
            List<Integer> ids = new ArrayList<>();
            full.forEachRemaining(t -> ids.add(t.id()));
            // With the byte tokenizer each token is one byte: a stop string of bytes 10..12 spans three tokens.
            byte[] bytes = new byte[ids.size()];
            for (int i = 0; i < bytes.length; i++) bytes[i] = (byte) (int) ids.get(i);
            String text = new String(bytes, StandardCharsets.UTF_8);
            assertThat(full.textSoFar()).isEqualTo(text);
            String stop = text.substring(text.length() / 2, text.length() / 2 + 3);
            Generation cut = model.generate("abc", o.withStop(List.of(stop)));
            String got = cut.text();
            assertThat(got).isEqualTo(text.substring(0, text.indexOf(stop)));
            assertThat(cut.finishReason()).isEqualTo(FinishReason.STOP);
        }
    }

    @Test
    void emptyPromptAndTooLongPromptAreClearErrors() throws Exception {
        try (LanguageModel model = LanguageModel.load(checkpoint)) {
            assertThatThrownBy(() -> model.generate("", GenerateOptions.greedy()))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty prompt");
            int context = model.config().context();
            assertThatThrownBy(() -> model.generate("x".repeat(context + 5), GenerateOptions.greedy()))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining((context + 5) + " tokens").hasMessageContaining("context of " + context);
        }
    }

    @Test
    void aPromptThatFillsTheContextEndsOnLength() throws Exception {
        try (LanguageModel model = LanguageModel.load(checkpoint)) {
            ModelConfig c = model.config();
            Generation g = model.generate("y".repeat(c.context() - 3), GenerateOptions.greedy().withMaxTokens(100));
            int n = 0;
            while (g.hasNext()) {
                g.next();
                n++;
            }
            assertThat(n).isEqualTo(4); // three positions left to feed, plus the token sampled after the last
            assertThat(g.finishReason()).isEqualTo(FinishReason.LENGTH);
        }
    }

    @Test
    void cancelStopsBeforeTheNextToken() throws Exception {
        try (LanguageModel model = LanguageModel.load(checkpoint)) {
            Generation g = model.generate("Hi", GenerateOptions.greedy().withMaxTokens(20));
            g.next();
            g.next();
            g.cancel();
            assertThat(g.hasNext()).isFalse();
            assertThat(g.generatedTokens()).isEqualTo(2);
            assertThat(g.finishReason()).isEqualTo(FinishReason.CANCELLED);
        }
    }

    @Test
    void idsPastTheTokenizerVocabularyAreNeverPicked() throws Exception {
        ModelConfig.Builder b = TestCheckpoints.small("dense").toBuilder();
        b.vocabSize = 320; // 64 padding rows after the byte tokenizer's 256
        Path dir = tmp.resolve("padded");
        TestCheckpoints.write(dir, b.build(), 2);
        try (LanguageModel model = LanguageModel.load(dir)) {
            GenerateOptions o = GenerateOptions.defaults().withTemperature(20).withTopK(0).withTopP(1).withMinP(0).withMaxTokens(40);
            Generation g = model.generate("pad", o.withSeed(1L));
            g.forEachRemaining(t -> assertThat(t.id()).isLessThan(256));
            assertThat(g.generatedTokens()).isEqualTo(40);
        }
    }
}
