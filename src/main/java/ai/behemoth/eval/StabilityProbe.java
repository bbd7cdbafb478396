package ai.behemoth.eval;

import ai.behemoth.generate.GenerateOptions;
import ai.behemoth.generate.Generation;
import ai.behemoth.generate.LanguageModel;
import ai.behemoth.model.Sequence;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * The "a sonnet one minute, nonsense the next" probe: each prompt is continued with several
 * seeds, and each sample is measured by
 * <ul>
 *   <li>its perplexity under the model itself (temperature 1, the continuation given the prompt);</li>
 *   <li>distinct-1 and distinct-2: distinct word unigrams (bigrams) over all of them;</li>
 *   <li>repeat-4: the share of word 4-grams that already occurred earlier in the same sample
 *       (loops and degenerate repetition push it towards 1).</li>
 * </ul>
 * Per prompt the p10/p50/p90 of each measure across seeds; the swing of a prompt is
 * {@code ln(p90 / p10)} of its samples' perplexity, and prompts are listed by it.
 */
public final class StabilityProbe {
    private StabilityProbe() {}

    public record Sample(int prompt, long seed, String text, int tokens, double nats, double perplexity,
                         double distinct1, double distinct2, double repeat4) {}

    public record Spread(double p10, double p50, double p90) {}

    public record PromptSummary(int prompt, String text, Spread perplexity, Spread distinct1, Spread distinct2,
                                Spread repeat4, double swing) {}

    public record Result(List<Sample> samples, List<PromptSummary> prompts, ItemScores scores) {}

    /** Prompts: one a line; blank lines and lines starting with {@code #} are skipped. */
    public static List<String> readPrompts(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString());
        List<String> prompts = new ArrayList<>();
        for (String line : EvalData.utf8(file.toString(), Files.readAllBytes(file)).split("\n"))
            if (!line.isBlank() && !line.startsWith("#")) prompts.add(line.stripTrailing());
        if (prompts.isEmpty()) throw new IOException(file + ": no prompts (one a line; blank and # lines are skipped)");
        return prompts;
    }

    public static Result run(LanguageModel model, List<String> prompts, int seeds, long firstSeed,
                             GenerateOptions options, IntConsumer progress) {
        if (seeds < 2) throw new IllegalArgumentException("--seeds must be at least 2 to show a spread, not " + seeds);
        TokenScorer scorer = new TokenScorer(model.engine());
        Sequence seq = model.engine().newSequence();
        List<Sample> samples = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) {
            int[] prompt = model.tokenizer().encode(prompts.get(p));
            if (prompt.length == 0) throw new IllegalArgumentException("prompt " + (p + 1) + " encodes to no tokens");
            for (int s = 0; s < seeds; s++) {
                long seed = firstSeed + s;
                Generation g = model.generate(prompt, options.withSeed(seed));
                List<Integer> ids = new ArrayList<>();
                g.forEachRemaining(t -> ids.add(t.id()));
                samples.add(measure(scorer, seq, p, seed, prompt, ids.stream().mapToInt(Integer::intValue).toArray(), g.text()));
                progress.accept(samples.size());
            }
        }
        List<PromptSummary> summaries = new ArrayList<>();
        for (int p = 0; p < prompts.size(); p++) {
            int prompt = p;
            List<Sample> mine = samples.stream().filter(x -> x.prompt() == prompt).toList();
            Spread ppl = spread(mine.stream().mapToDouble(Sample::perplexity).toArray());
            summaries.add(new PromptSummary(p, prompts.get(p), ppl,
                    spread(mine.stream().mapToDouble(Sample::distinct1).toArray()),
                    spread(mine.stream().mapToDouble(Sample::distinct2).toArray()),
                    spread(mine.stream().mapToDouble(Sample::repeat4).toArray()),
                    Math.log(ppl.p90() / ppl.p10())));
        }
        summaries.sort(Comparator.comparingDouble((PromptSummary x) -> Double.isNaN(x.swing()) ? Double.NEGATIVE_INFINITY : x.swing()).reversed());
        double[] nats = new double[samples.size()], tokens = new double[samples.size()], rep = new double[samples.size()];
        for (int i = 0; i < samples.size(); i++) {
            nats[i] = samples.get(i).nats();
            tokens[i] = samples.get(i).tokens();
            rep[i] = Double.isNaN(samples.get(i).repeat4()) ? 0 : samples.get(i).repeat4();
        }
        Map<String, double[]> columns = new LinkedHashMap<>();
        columns.put("nats", nats);
        columns.put("tokens", tokens);
        columns.put("repeat_4", rep);
        ItemScores scores = new ItemScores("sample", columns, List.of(
                new ItemScores.Metric("nats_per_token", "nats", "tokens", 1, "the samples' own negative log-likelihood, nats per generated token"),
                new ItemScores.Metric("repeat_4", "repeat_4", null, 1, "mean share of word 4-grams repeated within a sample")));
        return new Result(samples, summaries, scores);
    }

    private static Sample measure(TokenScorer scorer, Sequence seq, int prompt, long seed, int[] promptTokens, int[] generated, String text) {
        String[] words = text.strip().isEmpty() ? new String[0] : text.strip().split("\\s+");
        double distinct1 = distinct(words, 1), distinct2 = distinct(words, 2), repeat4 = 1 - distinct(words, 4);
        if (generated.length == 0) return new Sample(prompt, seed, text, 0, 0, Double.NaN, distinct1, distinct2, repeat4);
        int[] all = new int[promptTokens.length + generated.length];
        System.arraycopy(promptTokens, 0, all, 0, promptTokens.length);
        System.arraycopy(generated, 0, all, promptTokens.length, generated.length);
        int from = promptTokens.length;
        if (all.length > scorer.context()) { // score the continuation with as much of the prompt as fits
            int drop = all.length - scorer.context();
            all = Arrays.copyOfRange(all, drop, all.length);
            from = Math.max(1, from - drop);
        }
        seq.reset();
        double[] lp = scorer.append(seq, all, from);
        double nats = 0;
        for (int i = from; i < all.length; i++) nats -= lp[i];
        int scored = all.length - from;
        return new Sample(prompt, seed, text, scored, nats, Math.exp(nats / scored), distinct1, distinct2, repeat4);
    }

    /** Distinct n-grams over all n-grams of the words; NaN when there are none. */
    static double distinct(String[] words, int n) {
        int total = words.length - n + 1;
        if (total <= 0) return Double.NaN;
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < total; i++) seen.add(String.join(" ", Arrays.copyOfRange(words, i, i + n)));
        return (double) seen.size() / total;
    }

    /** p10, p50, p90 of the finite values (NaN when none). */
    static Spread spread(double[] values) {
        double[] finite = Arrays.stream(values).filter(Double::isFinite).toArray();
        if (finite.length == 0) return new Spread(Double.NaN, Double.NaN, Double.NaN);
        return new Spread(Bootstrap.percentile(finite, 0.10), Bootstrap.percentile(finite, 0.50), Bootstrap.percentile(finite, 0.90));
    }
}
