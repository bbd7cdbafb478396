package ai.behemoth.model;

/**
 * The top-k choice of one token's experts, shared by training and inference so that both route
 * alike: the k largest {@code score + bias} (bias may be null), ties to the lower expert index, the
 * first unchosen expert when keys are NaN (so k distinct experts are always chosen), and mixing
 * weights equal to the chosen scores, divided by their sum when {@code renorm}.
 */
public final class ExpertChoice {
    private ExpertChoice() {}

    /**
     * Chooses from {@code scores[row .. row + experts)}; writes the experts, best first, to
     * {@code selected[slot .. slot + topK)} and their weights to {@code weights} at the same slots.
     * Returns the sum of the chosen scores.
     */
    public static float choose(float[] scores, int row, int experts, float[] bias, int topK, boolean renorm,
                               int[] selected, float[] weights, int slot) {
        float chosenSum = 0;
        for (int j = 0; j < topK; j++) {
            int best = -1;
            float bestKey = 0;
            for (int e = 0; e < experts; e++) {
                if (chosen(selected, slot, j, e)) continue;
                float key = bias != null ? scores[row + e] + bias[e] : scores[row + e];
                if (best < 0 || key > bestKey) {
                    best = e;
                    bestKey = key;
                }
            }
            selected[slot + j] = best;
            chosenSum += scores[row + best];
        }
        for (int j = 0; j < topK; j++) {
            float s = scores[row + selected[slot + j]];
            weights[slot + j] = renorm ? s / chosenSum : s;
        }
        return chosenSum;
    }

    private static boolean chosen(int[] selected, int slot, int j, int expert) {
        for (int i = 0; i < j; i++) if (selected[slot + i] == expert) return true;
        return false;
    }
}
