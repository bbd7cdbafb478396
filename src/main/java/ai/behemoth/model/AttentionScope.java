package ai.behemoth.model;

/**
 * Which keys a query sees in one layer, and how sharply: Llama 4's long-context attention, as
 * Hugging Face {@code modeling_llama4.py} and llama.cpp define it. The training kernel
 * ({@code train.FlashAttention}) and the inference engine ({@link InferenceModel}) both ask this
 * object, so they mask and scale alike.
 * <ul>
 * <li>Chunked attention (RoPE layers, {@code chunk > 0}): the query at position {@code p} sees the
 *     keys {@code firstKey(p) .. p}, those of its own chunk of {@code chunk} positions
 *     ({@code key / chunk == p / chunk}). Without chunks it sees {@code 0 .. p}.</li>
 * <li>Temperature tuning (NoPE layers, {@code temperatureFloor > 0}): the query at position {@code p}
 *     is multiplied by {@code log(floor((p + 1) / floor) + 1)·scale + 1} before the scores, which is 1
 *     below position {@code floor − 1} and grows slowly after.</li>
 * </ul>
 */
public record AttentionScope(int chunk, int temperatureFloor, double temperatureScale) {
    /** Full causal attention with unscaled queries. */
    public static final AttentionScope FULL = new AttentionScope(0, 0, 0);

    /** The scope of {@code layer}: chunks apply to the RoPE layers, the temperature to the NoPE layers. */
    public static AttentionScope of(ModelConfig c, int layer) {
        return c.usesRope(layer)
                ? new AttentionScope(c.attentionChunk(), 0, 0)
                : new AttentionScope(0, c.temperatureFloor(), c.temperatureScale());
    }

    /** The first key position the query at {@code pos} attends to; it attends to every key from there to {@code pos}. */
    public int firstKey(int pos) {
        return chunk > 0 ? pos - pos % chunk : 0;
    }

    /** The factor that multiplies the query at {@code pos}. */
    public float queryScale(int pos) {
        if (temperatureFloor <= 0) return 1f;
        return (float) (Math.log(Math.floor((pos + 1.0) / temperatureFloor) + 1) * temperatureScale + 1);
    }

    /** Whether some query scale differs from 1 (so callers can skip the multiplication). */
    public boolean scalesQueries() {
        return temperatureFloor > 0 && temperatureScale != 0;
    }

    /**
     * Whether this scope and {@code other} mask and scale every position below {@code context} the
     * same: chunks of {@code context} or more are no chunks, and a temperature floor above
     * {@code context} never lifts the scale above 1.
     */
    public boolean sameBelow(AttentionScope other, int context) {
        return effectiveChunk(context) == other.effectiveChunk(context)
                && effectiveFloor(context) == other.effectiveFloor(context)
                && (effectiveFloor(context) == 0 || temperatureScale == other.temperatureScale);
    }

    private int effectiveChunk(int context) {
        return chunk >= context ? 0 : chunk;
    }

    private int effectiveFloor(int context) {
        return temperatureScale == 0 || temperatureFloor > context ? 0 : temperatureFloor;
    }
}
