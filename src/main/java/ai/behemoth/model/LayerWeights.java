package ai.behemoth.model;

/**
 * The weights of one decoder layer, by role rather than by file name, so that any weight source
 * (a checkpoint folder, a GGUF file) fills the same structure. Fields a layer does not use are null:
 * {@code qNorm}/{@code kNorm} without Qwen3's weighted QK norm; the dense trio on MoE layers; the
 * router, experts and shared expert on dense layers.
 *
 * @param expertGate  {@code [E·He, D]}: expert e's gate rows are {@code [e·He, (e+1)·He)}
 * @param expertDown  {@code [E·D, He]}: expert e's down rows are {@code [e·D, (e+1)·D)}
 * @param routerBias  the aux-loss-free selection bias ({@code [E]}, added to scores for top-k only), or null
 */
public record LayerWeights(
        float[] attentionNorm, Matrix wq, Matrix wk, Matrix wv, Matrix wo, float[] qNorm, float[] kNorm,
        float[] ffnNorm,
        Matrix gate, Matrix up, Matrix down,
        Matrix router, Matrix expertGate, Matrix expertUp, Matrix expertDown, float[] routerBias,
        Matrix sharedGate, Matrix sharedUp, Matrix sharedDown) {

    public boolean isMoe() {
        return router != null;
    }
}
