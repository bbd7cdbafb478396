package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;

/**
 * Training FLOPs per token, as the PaLM paper's appendix B counts them: {@code 6·N + 12·L·T·D}, where
 * N is the number of parameters each token uses (its active, non-embedding parameters) and the
 * second term is attention's score and value products (L layers, context T, attention width
 * D = heads·head_dim), forward plus backward.
 *
 * <p>N counts every weight matrix a token goes through: attention, dense FFNs, the router, top-k of
 * the routed experts, the shared expert, norms and the output head (which is a matrix product even
 * when tied to the embeddings). The embedding lookup is not a product and is left out.
 */
public final class Flops {
    private Flops() {}

    /** Parameters one token uses in a forward pass, without the embedding table. */
    public static long activeParams(ModelConfig c) {
        ParameterLayout layout = new ParameterLayout(c);
        long active = 0;
        for (ParameterLayout.Entry e : layout.entries()) {
            if (e.name().equals("tok_embeddings.weight")) continue;
            if (e.name().contains(".experts.")) active += (long) e.size() / c.experts() * c.topK();
            else active += e.size();
        }
        if (c.tiedEmbeddings()) active += (long) c.vocabSize() * c.dim();
        return active;
    }

    /** All parameters of the model. */
    public static long totalParams(ModelConfig c) {
        return new ParameterLayout(c).size();
    }

    /** Training FLOPs (forward and backward) per token at the model's full context. */
    public static double perToken(ModelConfig c) {
        return 6.0 * activeParams(c) + 12.0 * c.layers() * c.context() * c.qDim();
    }
}
