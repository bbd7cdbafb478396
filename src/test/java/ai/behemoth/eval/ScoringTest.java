package ai.behemoth.eval;

import ai.behemoth.generate.LanguageModel;
import ai.behemoth.model.InferenceModel;
import ai.behemoth.model.Sequence;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Perplexity and multiple choice against references computed token by token with the decode path. */
class ScoringTest {
    @TempDir
    static Path tmp;
    static Path random, uniform;

    @BeforeAll
    static void models() throws IOException {
        random = tmp.resolve("random");
        uniform = tmp.resolve("uniform");
        EvalFixtures.randomModel(random, 11);
        EvalFixtures.uniformModel(uniform);
    }

    /** ln p(tokens[t] | tokens[begin..t)) by decoding one token at a time in a fresh sequence. */
    static double reference(InferenceModel engine, int[] tokens, int begin, int t) {
        Sequence seq = engine.newSequence();
        float[] logits = null;
        for (int i = begin; i < t; i++) logits = engine.decode(seq, tokens[i]);
        return TokenScorer.logSoftmaxAt(logits, tokens[t]);
    }

    @Test
    void uniformModelHasPerplexityOfTheVocabulary() throws IOException {
        try (LanguageModel lm = LanguageModel.load(uniform)) {
            ItemScores s = Perplexity.run(lm.engine(), lm.tokenizer().encode(EvalFixtures.text()), 48, 24, n -> {});
            int vocab = lm.config().vocabSize();
            assertThat(s.value(s.metric("nats_per_token"))).isCloseTo(Math.log(vocab), within(1e-9));
            // byte tokenizer: one byte a token, so bits per byte = log2(V)
            assertThat(s.value(s.metric("bits_per_byte"))).isCloseTo(Math.log(vocab) / Math.log(2), within(1e-9));
        }
    }

    /**
     * Every token but the first is scored exactly once, with the context the stride rule promises:
     * the window that scores token t starts at the last multiple of the stride whose window reaches t
     * past what earlier windows scored.
     */
    @Test
    void rollingWindowsScoreEachTokenOnceWithTheirContext() throws IOException {
        try (LanguageModel lm = LanguageModel.load(random)) {
            String text = EvalFixtures.text();
            int[] tokens = lm.tokenizer().encode(text);
            int window = 16, stride = 6;
            ItemScores s = Perplexity.run(lm.engine(), tokens, window, stride, n -> {});
            double[] count = s.column("tokens"), nats = s.column("nats");
            double total = 0;
            for (double c : count) total += c;
            assertThat(total).isEqualTo(tokens.length - 1);
            // reference, window by window
            int scoredUpTo = 1, item = 0;
            for (int begin = 0; scoredUpTo < tokens.length; begin += stride) {
                int end = Math.min(begin + window, tokens.length);
                if (end <= scoredUpTo) continue;
                double expected = 0;
                for (int t = scoredUpTo; t < end; t++) expected -= reference(lm.engine(), tokens, begin, t);
                assertThat(nats[item]).as("chunk %d", item).isCloseTo(expected, within(1e-3));
                assertThat(count[item]).isEqualTo(end - scoredUpTo);
                item++;
                scoredUpTo = end;
            }
            assertThat(item).isEqualTo(nats.length);
        }
    }

    @Test
    void strideMustFitTheWindow() throws IOException {
        try (LanguageModel lm = LanguageModel.load(random)) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Perplexity.run(lm.engine(), new int[]{1, 2, 3}, 16, 17, n -> {}))
                    .hasMessageContaining("--stride must be 1 to the window 16");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Perplexity.run(lm.engine(), new int[]{1, 2, 3}, 49, 8, n -> {}))
                    .hasMessageContaining("--ctx must be 2 to the model's context 48");
        }
    }

    /** acc and acc_norm disagree: the short choice wins on raw log-likelihood, the long one per character. */
    @Test
    void accNormDividesByTheChoiceLengthInCharacters() {
        double[] ll = {-4.0, -6.0, -9.5};
        double[] ones = {1, 1, 1}, chars = {2, 6, 5};
        assertThat(MultipleChoice.argmax(ll, ones)).isEqualTo(0);   // -4 is the largest
        assertThat(MultipleChoice.argmax(ll, chars)).isEqualTo(1);  // -2, -1, -1.9
        assertThat(MultipleChoice.argmax(new double[]{-3, -3}, new double[]{1, 1})).isEqualTo(0); // ties: the first
    }

    /** The same on a model: log-likelihoods from the decode path, acc and acc_norm worked out by hand from them. */
    @Test
    void choiceScoresMatchAHandComputation() throws IOException {
        try (LanguageModel lm = LanguageModel.load(random)) {
            String context = "All:\nSpeak, ";
            List<String> choices = List.of("speak.", "hear me speak, all of you.", "no");
            // The harness moves the context's trailing space to the continuation: " speak." is scored, space included.
            int[] ctx = lm.tokenizer().encode(context.stripTrailing());
            double[] ll = new double[3];
            for (int c = 0; c < 3; c++) {
                int[] whole = lm.tokenizer().encode(context + choices.get(c));
                for (int t = ctx.length; t < whole.length; t++) ll[c] += reference(lm.engine(), whole, 0, t);
            }
            // hand: argmax of ll, and of ll / characters
            int acc = 0, norm = 0;
            for (int c = 1; c < 3; c++) {
                if (ll[c] > ll[acc]) acc = c;
                if (ll[c] / choices.get(c).length() > ll[norm] / choices.get(norm).length()) norm = c;
            }
            MultipleChoice.Scorer scorer = new MultipleChoice.Scorer(lm.engine());
            MultipleChoice.Outcome o = scorer.score(new MultipleChoice.Task(context, choices, 0));
            for (int c = 0; c < 3; c++) assertThat(o.logLikelihoods()[c]).isCloseTo(ll[c], within(1e-3));
            assertThat(o.predicted()).isEqualTo(acc);
            assertThat(o.predictedNorm()).isEqualTo(norm);
            ItemScores s = MultipleChoice.run(lm.engine(), List.of(new MultipleChoice.Task(context, choices, norm)), null, n -> {});
            assertThat(s.column("acc_norm")).containsExactly(1.0);
            assertThat(s.column("acc")).containsExactly(acc == norm ? 1.0 : 0.0);
        }
    }

    @Test
    void builtInTasksComeFromTheHeldOutSplitAndAreReproducible() throws IOException {
        MultipleChoice.TaskFile shipped = MultipleChoice.load(MultipleChoice.SHAKESPEARE_TASKS);
        String rebuilt = NextLineTasks.toJsonLines(NextLineTasks.build(EvalData.shakespeareHeldOut().text(), NextLineTasks.COUNT, NextLineTasks.SEED));
        assertThat(new String(shipped.bytes(), StandardCharsets.UTF_8)).isEqualTo(rebuilt);
        String heldOut = EvalData.shakespeareHeldOut().text();
        for (MultipleChoice.Task t : shipped.tasks()) {
            assertThat(heldOut).contains(t.context() + t.choices().get(t.label()) + "\n");
            assertThat(t.choices()).hasSize(4).doesNotHaveDuplicates();
        }
    }

    @Test
    void malformedTaskLinesNameTheFileAndLine() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MultipleChoice.parse("t.jsonl", "{\"context\":\"a\",\"choices\":[\"x\",\"y\"],\"label\":0}\n{oops"))
                .hasMessageStartingWith("t.jsonl:2: not valid JSON");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MultipleChoice.parse("t.jsonl", "{\"context\":\"a\",\"choices\":[\"x\",\"y\"],\"label\":2}"))
                .hasMessage("t.jsonl:1: \"label\" must be an index 0..1, got 2");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> MultipleChoice.parse("t.jsonl", "\n\n"))
                .hasMessage("t.jsonl: no tasks (empty file)");
    }
}
