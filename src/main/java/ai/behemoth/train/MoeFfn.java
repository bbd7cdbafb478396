package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;

/**
 * A mixture-of-experts feed-forward block (router, top-k, routed SwiGLU experts, optional shared
 * expert), with its balancing losses.
 * PLACEHOLDER: the API the Transformer codes against; the implementation replaces these bodies.
 */
public final class MoeFfn implements FeedForward {

    /** @param maxTokens the most token rows one forward will see (batch × sequence) */
    public MoeFfn(ModelConfig config, ParameterLayout layout, int layer, Balance balance,
                  float[] params, float[] grads, int maxTokens) {
        throw new UnsupportedOperationException("MoeFfn is not built yet");
    }

    @Override
    public void forward(float[] x, float[] out, int n) { throw new UnsupportedOperationException(); }

    /** Also adds the gradients of auxAlpha·aux and zLoss·z with respect to the router logits. */
    @Override
    public void backward(float[] dOut, float[] dx, int n) { throw new UnsupportedOperationException(); }

    /** Statistics of the last forward. */
    public RouterStats stats() { throw new UnsupportedOperationException(); }

    /** The aux-loss-free selection bias of this layer (live array, length experts). */
    public float[] bias() { throw new UnsupportedOperationException(); }

    /**
     * DeepSeek-V3's update, once per optimizer step: each expert's bias moves by {@code gamma}
     * toward balance, up when it got fewer tokens than the mean, down when more.
     */
    public static void updateBias(float[] bias, long[] counts, double gamma) { throw new UnsupportedOperationException(); }
}
