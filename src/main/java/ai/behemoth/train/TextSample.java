package ai.behemoth.train;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A quick look at what a training model has learned: continues a prompt by sampling from the
 * softmax of logits/temperature, re-running the training forward over the last {@code context}
 * tokens for every new token (no KV cache: this is a short sample at the end of a run, not the
 * inference engine).
 */
public final class TextSample {
    private TextSample() {}

    /** The ids of {@code count} sampled tokens following {@code prompt}, reproducible for a given seed. */
    public static int[] continueTokens(Transformer model, int[] prompt, int count, double temperature, long seed) {
        if (prompt.length == 0) throw new IllegalArgumentException("the sample prompt must not be empty");
        if (!(temperature > 0)) throw new IllegalArgumentException("temperature must be positive, got " + temperature);
        int context = model.config().context(), vocab = model.config().vocabSize();
        int[] all = Arrays.copyOf(prompt, prompt.length + count);
        SplittableRandom rng = new SplittableRandom(seed);
        double[] p = new double[vocab];
        for (int n = prompt.length; n < all.length; n++) {
            int from = Math.max(0, n - context), len = n - from;
            model.forward(Arrays.copyOfRange(all, from, n), null, 1, len);
            float[] logits = model.logits();
            int row = (len - 1) * vocab;
            double max = Double.NEGATIVE_INFINITY;
            for (int v = 0; v < vocab; v++) max = Math.max(max, logits[row + v] / temperature);
            double sum = 0;
            for (int v = 0; v < vocab; v++) sum += p[v] = Math.exp(logits[row + v] / temperature - max);
            double r = rng.nextDouble() * sum;
            int next = vocab - 1;
            for (int v = 0; v < vocab; v++) {
                r -= p[v];
                if (r < 0) {
                    next = v;
                    break;
                }
            }
            all[n] = next;
        }
        return Arrays.copyOfRange(all, prompt.length, all.length);
    }
}
