package ai.behemoth.cost;

import ai.behemoth.model.ModelConfig;

/**
 * Training FLOPs per token of a {@link ModelConfig}, counted the way nanoGPT and PaLM (appendix B)
 * count them: {@code 6 × N + 12 × layers × heads × headDim × T}.
 *
 * <p>{@code N} is the number of active matrix parameters a token passes through: the attention
 * projections, the dense FFN or the router plus {@code top-k} routed experts and the shared expert,
 * and the output head (a real product even when tied to the embeddings). The input embedding is a
 * lookup and RMSNorm weights are elementwise, so neither counts. Each parameter costs 2 FLOPs
 * forward and 4 backward. The second term is attention over a context of {@code T} tokens (scores
 * and the weighted sum of values, 4 FLOPs per head dimension forward, times 3), counted without
 * halving for the causal mask, as PaLM does.
 */
public final class TrainingFlops {
    private TrainingFlops() {}

    /** Active matrix parameters per token: see the class comment. */
    public static long activeMatrixParams(ModelConfig c) {
        long d = c.dim();
        long n = 0;
        for (int i = 0; i < c.layers(); i++) {
            n += d * c.qDim() + 2 * d * c.kvDim() + (long) c.qDim() * d;
            if (c.isMoeLayer(i)) {
                n += d * c.experts();
                n += (long) c.topK() * 3 * d * c.expertHidden();
                n += 3 * d * c.sharedExpertHidden();
            } else {
                n += 3 * d * c.ffnHidden();
            }
        }
        return n + d * c.vocabSize();
    }

    /** Training FLOPs for one token at context length {@code contextTokens}. */
    public static double perToken(ModelConfig c, int contextTokens) {
        return 6.0 * activeMatrixParams(c) + 12.0 * c.layers() * c.qDim() * contextTokens;
    }
}
