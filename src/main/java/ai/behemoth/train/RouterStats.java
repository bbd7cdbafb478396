package ai.behemoth.train;

/**
 * What one MoE layer's router did in the last forward pass.
 *
 * @param layer   the transformer layer index
 * @param counts  tokens routed to each expert (each token counts once per selected expert)
 * @param load    counts as fractions of all assignments (sums to 1)
 * @param maxVio  (max load − mean load) / mean load: 0 when perfectly balanced
 * @param dead    experts that received no token
 * @param entropy mean over tokens of the entropy (nats) of the normalised router scores
 * @param aux     this layer's Switch auxiliary loss E·Σ f_e·P_e (1.0 at perfect balance)
 * @param z       this layer's router z-loss
 */
public record RouterStats(int layer, long[] counts, double[] load, double maxVio, int dead,
                          double entropy, double aux, double z) {}
