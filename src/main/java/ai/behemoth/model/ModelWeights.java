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

    /**
     * Bytes of weights the engine reads: every matrix (as stored, or as converted on load; the tied
     * output head counted once) and the norm and bias vectors.
     */
    public long bytes() {
        long total = embedding.data().byteSize() + (output == embedding ? 0 : output.data().byteSize()) + floatBytes(norm);
        for (LayerWeights w : layers) {
            for (Matrix m : new Matrix[] {w.wq(), w.wk(), w.wv(), w.wo(), w.gate(), w.up(), w.down(), w.router(),
                    w.expertGate(), w.expertUp(), w.expertDown(), w.sharedGate(), w.sharedUp(), w.sharedDown()})
                if (m != null) total += m.data().byteSize();
            total += floatBytes(w.attentionNorm()) + floatBytes(w.qNorm()) + floatBytes(w.kNorm()) + floatBytes(w.ffnNorm())
                    + floatBytes(w.routerBias());
        }
        return total;
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
