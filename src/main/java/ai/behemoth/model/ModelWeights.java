package ai.behemoth.model;

import ai.behemoth.tokenizer.Tokenizer;

import java.util.List;

/**
 * Everything the inference engine reads: the config, the tokenizer, the weights by role, and the
 * resources (mapped files, quantised buffers) that back them, released by {@link #close()}.
 *
 * @param output the LM head {@code [V, D]}; the embedding table itself when embeddings are tied
 * @param chatTemplate the model's own Jinja chat template, or null to use the built-in one
 * @param ropeFactors one divisor per rotated pair {@code [headDim/2]} of every RoPE frequency
 *     (Llama 3.1+ and Llama 4 RoPE scaling, llama.cpp's {@code rope_freqs.weight}), or null for none
 */
public record ModelWeights(ModelConfig config, Tokenizer tokenizer, Matrix embedding, List<LayerWeights> layers,
                           float[] norm, Matrix output, String chatTemplate, AutoCloseable resources, float[] ropeFactors)
        implements AutoCloseable {

    public ModelWeights {
        if (ropeFactors != null && ropeFactors.length != config.headDim() / 2)
            throw new IllegalArgumentException(ropeFactors.length + " RoPE frequency factors for a head of " + config.headDim()
                    + " (one per rotated pair: " + config.headDim() / 2 + ")");
    }

    /** Weights whose RoPE frequencies are used as the config gives them. */
    public ModelWeights(ModelConfig config, Tokenizer tokenizer, Matrix embedding, List<LayerWeights> layers,
                        float[] norm, Matrix output, String chatTemplate, AutoCloseable resources) {
        this(config, tokenizer, embedding, layers, norm, output, chatTemplate, resources, null);
    }

    @Override
    public void close() {
        try {
            resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing model weights: " + e.getMessage(), e);
        }
    }
}
