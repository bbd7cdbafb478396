package ai.behemoth.train;

import ai.behemoth.model.ExpertChoice;
import ai.behemoth.model.ModelConfig;
import ai.behemoth.tensor.MatMul;
import ai.behemoth.tensor.Parallel;

import java.util.Arrays;

/**
 * The router of one MoE layer: logits {@code x·Wrᵀ}, expert scores (softmax or sigmoid), top-k
 * selection, mixing weights, the balance losses and statistics, and the backward from the
 * mixing-weight gradients (plus the aux and z losses) to {@code Wr} and {@code x}.
 *
 * <p>Scores: softmax {@code p = softmax(l)} (Mixtral, Qwen3) or sigmoid {@code s = σ(l)} (Llama 4,
 * DeepSeek-V3). Top-k and the mixing weights are {@link ExpertChoice}'s (bias only in aux-free mode). The normalised distribution {@code q} behind the aux loss and the entropy is
 * {@code p} itself, or {@code s / Σ s} for sigmoid.
 */
final class Router {
    /** Tokens per parallel task: enough work to be worth a hand-off, few enough to spread over cores. */
    private static final int TOKEN_BLOCK = 64;

    private final int dim, experts, topK;
    private final boolean sigmoid, renorm, useBias;
    private final double auxAlpha, zWeight;
    private final float[] params, grads;
    private final int weightOffset;
    private final float[] bias;

    // From the last forward, per token.
    private final float[] logits;      // [n, E]
    private final float[] scores;      // [n, E]: p (softmax) or s (sigmoid)
    private final float[] scoreSum;    // [n]: Σ_e s, the sigmoid normaliser (1 for softmax)
    private final float[] selectedSum; // [n]: Σ of the selected scores, the top-k normaliser
    private final double[] logSumExp;  // [n]
    private final double[] entropy;    // [n]
    private final int[] selected;      // [n, k]: expert of each (token, slot), best first
    private final float[] weights;     // [n, k]: mixing weight of each (token, slot)
    private final long[] expertCounts; // [E]
    private final float[] auxGradient; // [E]: d(auxAlpha·aux)/dq_e for every token, set in backward
    private final float[] dLogits;     // [n, E]
    private int tokens;
    private double aux, z, meanEntropy;

    Router(ModelConfig config, ParameterLayout layout, int layer, Balance balance,
           float[] params, float[] grads, int maxTokens) {
        this.dim = config.dim();
        this.experts = config.experts();
        this.topK = config.topK();
        this.sigmoid = config.router() == ModelConfig.Router.SIGMOID;
        this.renorm = config.renormTopK();
        this.useBias = balance.mode() == Balance.Mode.AUX_FREE;
        this.auxAlpha = balance.effectiveAuxAlpha();
        this.zWeight = balance.zLoss();
        this.params = params;
        this.grads = grads;
        this.weightOffset = layout.get("layers." + layer + ".feed_forward.router.weight").offset();
        this.bias = new float[experts];
        logits = new float[maxTokens * experts];
        scores = new float[maxTokens * experts];
        scoreSum = new float[maxTokens];
        selectedSum = new float[maxTokens];
        logSumExp = new double[maxTokens];
        entropy = new double[maxTokens];
        selected = new int[maxTokens * topK];
        weights = new float[maxTokens * topK];
        expertCounts = new long[experts];
        auxGradient = new float[experts];
        dLogits = new float[maxTokens * experts];
    }

    float[] bias() {
        return bias;
    }

    /** Expert chosen for each (token, slot), {@code [n, k]}, from the last forward. */
    int[] selected() {
        return selected;
    }

    /** Mixing weight of each (token, slot), {@code [n, k]}, from the last forward. */
    float[] weights() {
        return weights;
    }

    /** Assignments per expert in the last forward. */
    long[] counts() {
        return expertCounts;
    }

    /** Routes {@code n} rows of {@code x[n, D]}; the caller keeps {@code x} unchanged until backward. */
    void forward(float[] x, int n) {
        tokens = n;
        MatMul.abT(logits, 0, x, 0, params, weightOffset, n, dim, experts, false);
        Parallel.forRange(blocks(n), block -> {
            double[] exps = new double[experts];
            for (int t = block * TOKEN_BLOCK, end = Math.min(n, t + TOKEN_BLOCK); t < end; t++) routeToken(t, exps);
        });
        // Reductions in token order, on one thread, so the bits do not depend on the thread count.
        Arrays.fill(expertCounts, 0);
        for (int a = 0; a < n * topK; a++) expertCounts[selected[a]]++;
        double balanceSum = 0, zSum = 0, entropySum = 0;
        for (int e = 0; e < experts; e++) {
            double meanQ = 0;
            for (int t = 0; t < n; t++) meanQ += scores[t * experts + e] / scoreSum[t];
            balanceSum += (double) expertCounts[e] / ((double) n * topK) * (meanQ / n);
        }
        for (int t = 0; t < n; t++) {
            zSum += logSumExp[t] * logSumExp[t];
            entropySum += entropy[t];
        }
        aux = n == 0 ? 0 : experts * balanceSum;
        z = n == 0 ? 0 : zSum / n;
        meanEntropy = n == 0 ? 0 : entropySum / n;
    }

    /** Routes token t; {@code exps} ({@code [E]}) keeps each e^(l − max) for the softmax, which needs them twice. */
    private void routeToken(int t, double[] exps) {
        int row = t * experts;
        float max = Float.NEGATIVE_INFINITY;
        for (int e = 0; e < experts; e++) max = Math.max(max, logits[row + e]);
        double expSum = 0;
        for (int e = 0; e < experts; e++) expSum += exps[e] = Math.exp(logits[row + e] - max);
        logSumExp[t] = max + Math.log(expSum);

        float sum = 1;
        if (sigmoid) {
            sum = 0;
            for (int e = 0; e < experts; e++) sum += scores[row + e] = SwiGlu.sigmoid(logits[row + e]);
        } else {
            for (int e = 0; e < experts; e++) scores[row + e] = (float) (exps[e] / expSum);
        }
        scoreSum[t] = sum;
        double h = 0;
        for (int e = 0; e < experts; e++) {
            double q = scores[row + e] / sum;
            if (q > 0) h -= q * Math.log(q);
        }
        entropy[t] = h;

        selectedSum[t] = ExpertChoice.choose(scores, row, experts, useBias ? bias : null, topK, renorm, selected, weights, t * topK);
    }

    /**
     * Given the gradient of the loss with respect to each mixing weight ({@code dWeights[n, k]}),
     * adds the aux and z loss gradients, accumulates {@code dWr} and adds {@code dLogits·Wr} into
     * {@code dx}. {@code x} is the input of the last forward.
     */
    void backward(float[] x, float[] dWeights, float[] dx, int n) {
        if (n != tokens) throw new IllegalArgumentException("backward over " + n + " tokens after a forward over " + tokens);
        // d(auxAlpha·aux)/dq_{t,e} = auxAlpha·E·f_e/n, with f_e = count_e/(n·k) held constant.
        for (int e = 0; e < experts; e++)
            auxGradient[e] = (float) (auxAlpha * experts * ((double) expertCounts[e] / ((double) n * topK)) / n);
        Parallel.forRange(blocks(n), block -> {
            for (int t = block * TOKEN_BLOCK, end = Math.min(n, t + TOKEN_BLOCK); t < end; t++)
                tokenLogitGradient(t, dWeights, n);
        });
        MatMul.aTb(grads, weightOffset, dLogits, 0, x, 0, experts, n, dim, true);
        MatMul.ab(dx, 0, dLogits, 0, params, weightOffset, n, experts, dim, true);
    }

    /** Fills row t of dLogits: first with dLoss/dscore, then through the softmax or sigmoid. */
    private void tokenLogitGradient(int t, float[] dWeights, int n) {
        int row = t * experts, slot = t * topK;
        for (int e = 0; e < experts; e++) dLogits[row + e] = 0;
        if (renorm) {
            // w_j = s_j / S over the selected: ds_j = (dw_j − Σ_i dw_i·w_i) / S
            float dot = 0;
            for (int j = 0; j < topK; j++) dot += dWeights[slot + j] * weights[slot + j];
            for (int j = 0; j < topK; j++)
                dLogits[row + selected[slot + j]] += (dWeights[slot + j] - dot) / selectedSum[t];
        } else {
            for (int j = 0; j < topK; j++) dLogits[row + selected[slot + j]] += dWeights[slot + j];
        }
        if (auxAlpha != 0) {
            if (sigmoid) {
                // q = s / Σs: ds_e = (dq_e − Σ_i dq_i·q_i) / Σs
                float sum = scoreSum[t], dot = 0;
                for (int e = 0; e < experts; e++) dot += auxGradient[e] * scores[row + e] / sum;
                for (int e = 0; e < experts; e++) dLogits[row + e] += (auxGradient[e] - dot) / sum;
            } else {
                for (int e = 0; e < experts; e++) dLogits[row + e] += auxGradient[e];
            }
        }
        if (sigmoid) {
            for (int e = 0; e < experts; e++) {
                float s = scores[row + e];
                dLogits[row + e] *= s * (1 - s);
            }
        } else {
            float dot = 0;
            for (int e = 0; e < experts; e++) dot += dLogits[row + e] * scores[row + e];
            for (int e = 0; e < experts; e++) dLogits[row + e] = scores[row + e] * (dLogits[row + e] - dot);
        }
        if (zWeight != 0) {
            // z = mean_t lse_t²: dz/dl_e = 2·lse_t·softmax(l)_e / n
            double lse = logSumExp[t], scale = zWeight * 2 * lse / n;
            for (int e = 0; e < experts; e++)
                dLogits[row + e] += (float) (scale * Math.exp(logits[row + e] - lse));
        }
    }

    RouterStats stats(int layer) {
        long[] c = expertCounts.clone();
        double total = (double) tokens * topK, mean = 1.0 / experts, maxLoad = 0;
        double[] load = new double[experts];
        int dead = 0;
        for (int e = 0; e < experts; e++) {
            load[e] = total == 0 ? 0 : c[e] / total;
            maxLoad = Math.max(maxLoad, load[e]);
            if (c[e] == 0) dead++;
        }
        double maxVio = total == 0 ? 0 : (maxLoad - mean) / mean;
        return new RouterStats(layer, c, load, maxVio, dead, meanEntropy, aux, z);
    }

    private static int blocks(int n) {
        return (n + TOKEN_BLOCK - 1) / TOKEN_BLOCK;
    }
}
