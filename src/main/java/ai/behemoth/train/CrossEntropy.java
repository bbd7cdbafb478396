package ai.behemoth.train;

import ai.behemoth.tensor.Parallel;

/**
 * Mean cross-entropy of logits {@code [n, V]} against target ids. Forward keeps each row's
 * log-sum-exp so backward can rebuild the softmax without storing it.
 */
final class CrossEntropy {
    private CrossEntropy() {}

    /**
     * Fills {@code lse[n]} and {@code rowLoss[n]} (rows in parallel) and returns the mean loss,
     * summed in row order in double so the result does not depend on the thread count.
     */
    static double forward(float[] logits, int[] targets, float[] lse, float[] rowLoss, int n, int vocab) {
        Parallel.forRange(n, r -> {
            int off = r * vocab;
            float max = Float.NEGATIVE_INFINITY;
            for (int j = 0; j < vocab; j++) max = Math.max(max, logits[off + j]);
            float sum = 0;
            for (int j = 0; j < vocab; j++) sum += (float) Math.exp(logits[off + j] - max);
            float l = max + (float) Math.log(sum);
            lse[r] = l;
            rowLoss[r] = l - logits[off + targets[r]];
        });
        double total = 0;
        for (int r = 0; r < n; r++) total += rowLoss[r];
        return total / n;
    }

    /** {@code dLogits = (softmax(logits) − onehot(target)) / n}: the gradient of the mean loss. */
    static void backward(float[] dLogits, float[] logits, int[] targets, float[] lse, int n, int vocab) {
        float scale = 1f / n;
        Parallel.forRange(n, r -> {
            int off = r * vocab;
            float l = lse[r];
            for (int j = 0; j < vocab; j++) dLogits[off + j] = (float) Math.exp(logits[off + j] - l) * scale;
            dLogits[off + targets[r]] -= scale;
        });
    }
}
