package ai.behemoth.serve;

/** Log-probabilities of a token and of the most likely alternatives, from the model's logits before sampling. */
final class Logprobs {
    private Logprobs() {}

    /**
     * @param id         the chosen token (-1 until {@link #chosen})
     * @param logprob    its log-probability
     * @param topIds     the most likely tokens, best first
     * @param topLogprob their log-probabilities
     * @param all        every token's log-probability until {@link #chosen} picks one (then null)
     */
    record Entry(int id, float logprob, int[] topIds, float[] topLogprob, float[] all) {
        Entry chosen(int picked) {
            return new Entry(picked, all[picked], topIds, topLogprob, null);
        }
    }

    /**
     * The log-softmax of {@code logits} (in double), written into {@code all} (as long as the logits;
     * the caller's buffer, reused from token to token), and its {@code top} largest entries; the entry
     * keeps {@code all} until a token is chosen.
     */
    static Entry before(float[] logits, int top, float[] all) {
        double max = Double.NEGATIVE_INFINITY;
        for (float l : logits) max = Math.max(max, l);
        double sum = 0;
        for (float l : logits) sum += Math.exp(l - max);
        double logZ = max + Math.log(sum);
        for (int i = 0; i < logits.length; i++) all[i] = (float) (logits[i] - logZ);
        int[] ids = new int[top];
        float[] lps = new float[top];
        int count = 0;
        for (int i = 0; i < all.length && top > 0; i++) {
            // insertion into the sorted top list (top is at most 20); ties keep the lower id first
            if (count == top && !(all[i] > lps[top - 1])) continue;
            int at = count < top ? count++ : top - 1;
            while (at > 0 && all[i] > lps[at - 1]) {
                ids[at] = ids[at - 1];
                lps[at] = lps[at - 1];
                at--;
            }
            ids[at] = i;
            lps[at] = all[i];
        }
        return new Entry(-1, 0, ids, lps, all);
    }
}
