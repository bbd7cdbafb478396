package ai.behemoth.model;

import ai.behemoth.tokenizer.Tokenizer;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

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

    /**
     * Bytes of weights the engine reads: every matrix (as stored, or as converted on load; the tied
     * output head counted once), the norm and bias vectors and the RoPE factors.
     */
    public long bytes() {
        long total = embedding.bytes() + (output == embedding ? 0 : output.bytes()) + floatBytes(norm)
                + floatBytes(ropeFactors);
        for (LayerWeights w : layers) {
            for (Matrix m : new Matrix[] {w.wq(), w.wk(), w.wv(), w.wo(), w.gate(), w.up(), w.down(), w.router(),
                    w.expertGate(), w.expertUp(), w.expertDown(), w.sharedGate(), w.sharedUp(), w.sharedDown()})
                if (m != null) total += m.bytes();
            total += floatBytes(w.attentionNorm()) + floatBytes(w.qNorm()) + floatBytes(w.kNorm()) + floatBytes(w.ffnNorm())
                    + floatBytes(w.routerBias());
        }
        return total;
    }

    /**
     * These weights with every Q4_0, Q8_0 and K-quant matrix also interleaved for 8-bit activations
     * ({@link Matrix#withQ8Activations}): generation then multiplies as llama.cpp does. The copies
     * live in an arena of their own, closed with the weights.
     */
    public ModelWeights withQ8Activations() {
        Arena arena = Arena.ofShared();
        UnaryOperator<Matrix> q8 = m -> m == null ? null : m.withQ8Activations(arena);
        List<LayerWeights> q8Layers = new ArrayList<>();
        for (LayerWeights w : layers)
            q8Layers.add(new LayerWeights(w.attentionNorm(), q8.apply(w.wq()), q8.apply(w.wk()), q8.apply(w.wv()), q8.apply(w.wo()),
                    w.qNorm(), w.kNorm(), w.ffnNorm(), q8.apply(w.gate()), q8.apply(w.up()), q8.apply(w.down()), w.router(),
                    q8.apply(w.expertGate()), q8.apply(w.expertUp()), q8.apply(w.expertDown()), w.routerBias(),
                    q8.apply(w.sharedGate()), q8.apply(w.sharedUp()), q8.apply(w.sharedDown())));
        Matrix q8Output = q8.apply(output);
        AutoCloseable both = () -> {
            try (arena) {
                resources.close();
            }
        };
        return new ModelWeights(config, tokenizer, output == embedding ? q8Output : embedding, q8Layers, norm, q8Output, chatTemplate,
                both, ropeFactors);
    }

    private static long floatBytes(float[] v) {
        return v == null ? 0 : (long) v.length * Float.BYTES;
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
