package ai.behemoth.eval;

import ai.behemoth.model.InferenceModel;
import ai.behemoth.model.Sequence;
import ai.behemoth.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * Perplexity over a text with rolling windows (the Hugging Face "strided" method).
 *
 * <p>The text is tokenized once. Windows of {@code window} tokens start every {@code stride} tokens;
 * each window scores only the tokens no earlier window scored, so every token is scored exactly once,
 * and every token after the first window has at least {@code window − stride} tokens of left context
 * ({@code stride == window} makes the windows disjoint: cheapest, but the first tokens of each window
 * see little context). The very first token of the text has no context at all and is not scored.
 * A smaller stride gives more context per token and costs {@code window / stride} times the forward
 * passes; the default is half the model's context.
 *
 * <p>Each window's scored tokens form one bootstrap item: its nats, its token count and the UTF-8
 * bytes those tokens stand for. Nats per token is Σ nats / Σ tokens; bits per byte is
 * Σ nats / (ln 2 · Σ bytes), comparable across tokenizers.
 */
public final class Perplexity {
    private Perplexity() {}

    /** Scores {@code tokens} (a text's encoding); {@code progress} gets the count of tokens done. */
    public static ItemScores run(InferenceModel engine, int[] tokens, int window, int stride, IntConsumer progress) {
        int context = engine.config().context();
        if (window < 2 || window > context)
            throw new IllegalArgumentException("--ctx must be 2 to the model's context " + context + ", not " + window);
        if (stride < 1 || stride > window)
            throw new IllegalArgumentException("--stride must be 1 to the window " + window + ", not " + stride);
        Tokenizer tokenizer = engine.tokenizer();
        if (tokens.length < 2) throw new IllegalArgumentException("the evaluation text is " + tokens.length + " token(s); perplexity needs at least 2");
        TokenScorer scorer = new TokenScorer(engine);
        Sequence seq = engine.newSequence(window);
        List<double[]> items = new ArrayList<>();
        int scoredUpTo = 1; // token 0 has no context
        for (int begin = 0; scoredUpTo < tokens.length; begin += stride) {
            int end = Math.min(begin + window, tokens.length);
            if (end <= scoredUpTo) continue;
            int[] w = Arrays.copyOfRange(tokens, begin, end);
            seq.reset();
            double[] lp = scorer.append(seq, w, scoredUpTo - begin);
            double nats = 0;
            long bytes = 0;
            for (int i = scoredUpTo - begin; i < w.length; i++) {
                nats -= lp[i];
                bytes += tokenizer.tokenBytes(w[i]).length;
            }
            items.add(new double[]{nats, end - scoredUpTo, bytes});
            scoredUpTo = end;
            progress.accept(end);
        }
        double[] nats = new double[items.size()], count = new double[items.size()], bytes = new double[items.size()];
        for (int i = 0; i < items.size(); i++) {
            nats[i] = items.get(i)[0];
            count[i] = items.get(i)[1];
            bytes[i] = items.get(i)[2];
        }
        Map<String, double[]> columns = new LinkedHashMap<>();
        columns.put("nats", nats);
        columns.put("tokens", count);
        columns.put("bytes", bytes);
        return new ItemScores("chunk", columns, List.of(
                new ItemScores.Metric("nats_per_token", "nats", "tokens", 1, "mean negative log-likelihood, nats per token"),
                new ItemScores.Metric("bits_per_byte", "nats", "bytes", 1 / Math.log(2), "bits per UTF-8 byte of text")));
    }
}
