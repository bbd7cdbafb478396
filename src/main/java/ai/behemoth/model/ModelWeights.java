package ai.behemoth.model;

import ai.behemoth.tokenizer.Tokenizer;

import java.util.List;

/**
 * Everything the inference engine reads: the config, the tokenizer, the weights by role, and the
 * resources (mapped files, quantised buffers) that back them, released by {@link #close()}.
 *
 * @param output the LM head {@code [V, D]}; the embedding table itself when embeddings are tied
 * @param chatTemplate the model's own Jinja chat template, or null to use the built-in one
 */
public record ModelWeights(ModelConfig config, Tokenizer tokenizer, Matrix embedding, List<LayerWeights> layers,
                           float[] norm, Matrix output, String chatTemplate, AutoCloseable resources)
        implements AutoCloseable {

    @Override
    public void close() {
        try {
            resources.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing model weights: " + e.getMessage(), e);
        }
    }
}
