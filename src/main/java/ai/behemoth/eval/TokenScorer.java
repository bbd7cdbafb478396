package ai.behemoth.eval;

import ai.behemoth.model.Batch;
import ai.behemoth.model.InferenceModel;
import ai.behemoth.model.Sequence;

import java.util.Arrays;

/**
 * Log-probabilities of tokens under the inference engine. Tokens go through in batches of up to
 * the engine's row count (one matrix product per weight per batch, as a prompt prefill does), and
 * only the rows whose next token is scored ask for logits.
 */
final class TokenScorer {
    private final InferenceModel engine;

    TokenScorer(InferenceModel engine) {
        this.engine = engine;
    }

    int context() {
        return engine.config().context();
    }

    /**
     * Appends {@code tokens} to {@code seq} and returns {@code lp} with {@code lp[i] = ln p(tokens[i] |
     * seq's earlier content, tokens[0..i))} for {@code i >= from}, NaN below. {@code from} is at least 1:
     * the logits for a token come from the row of the token before it.
     */
    double[] append(Sequence seq, int[] tokens, int from) {
        if (from < 1) throw new IllegalArgumentException("the first scored token needs one token before it");
        int n = tokens.length;
        double[] lp = new double[n];
        Arrays.fill(lp, Double.NaN);
        Batch batch = engine.newBatch();
        for (int start = 0; start < n; start += batch.capacity()) {
            int end = Math.min(n, start + batch.capacity());
            batch.clear();
            for (int i = start; i < end; i++) batch.add(seq, tokens[i], i + 1 < n && i + 1 >= from);
            engine.forward(batch);
            for (int i = start; i < end; i++)
                if (i + 1 < n && i + 1 >= from) lp[i + 1] = logSoftmaxAt(batch.logits(i - start), tokens[i + 1]);
        }
        batch.clear();
        return lp;
    }

    /** {@code ln softmax(logits)[target]}, in double precision. */
    static double logSoftmaxAt(float[] logits, int target) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        return logits[target] - max - Math.log(sum);
    }
}
