package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;

import java.util.List;

/**
 * The training model: an explicit forward that keeps activations and an explicit backward, over
 * one flat parameter buffer laid out by {@link ParameterLayout}. Inputs are token ids {@code [B, T]}.
 *
 * <p>PLACEHOLDER: this is the API the trainer, the golden tests and the inference checks code
 * against; the implementation replaces these bodies.
 */
public final class Transformer {
    private final ModelConfig config;
    private final ParameterLayout layout;

    /** Allocates parameters, gradients and activations for batches up to {@code maxBatch × maxSeq}. */
    public Transformer(ModelConfig config, Balance balance, int maxBatch, int maxSeq) {
        this.config = config.validate();
        this.layout = new ParameterLayout(config);
        throw new UnsupportedOperationException("Transformer is not built yet");
    }

    public ModelConfig config() { return config; }

    public ParameterLayout layout() { return layout; }

    /** The flat parameter buffer (live: writes change the model). */
    public float[] params() { throw new UnsupportedOperationException(); }

    /** The flat gradient buffer, same layout as {@link #params()}. */
    public float[] grads() { throw new UnsupportedOperationException(); }

    /** Truncated normal (±2σ, σ = init_std) for matrices and embeddings, ones for norm weights. */
    public void initialize(long seed) { throw new UnsupportedOperationException(); }

    /**
     * Forward over {@code tokens[B·T]}; with {@code targets} (same shape) computes the loss and keeps
     * what backward needs. With {@code targets == null} only logits are computed and null is returned.
     */
    public Loss forward(int[] tokens, int[] targets, int batch, int seq) { throw new UnsupportedOperationException(); }

    /** Backward of the last forward's total loss; accumulates into {@link #grads()}. */
    public void backward() { throw new UnsupportedOperationException(); }

    public void zeroGrads() { throw new UnsupportedOperationException(); }

    /** Logits {@code [B·T, V]} of the last forward. */
    public float[] logits() { throw new UnsupportedOperationException(); }

    /** One entry per MoE layer, from the last forward. */
    public List<RouterStats> routerStats() { throw new UnsupportedOperationException(); }

    /**
     * DeepSeek-V3 selection biases, one array of length {@code experts} per MoE layer (in layer
     * order). Added to router scores for top-k selection only, never to the mixing weights.
     */
    public float[][] routerBias() { throw new UnsupportedOperationException(); }
}
