package ai.behemoth.report;

/**
 * Router statistics of one MoE layer at one logged step, as {@code train} writes them in the
 * {@code experts} list of a step record.
 *
 * @param layer   layer index (0-based, counting dense layers too)
 * @param load    share of routed token slots each expert received; sums to 1
 * @param maxVio  MaxVio: (largest load - mean load) / mean load; 0 at perfect balance
 * @param dead    experts that received no tokens
 * @param entropy mean entropy of the router's distribution, in nats (NaN when not logged)
 * @param aux     the Switch auxiliary loss (1.0 at perfect balance; NaN when not logged)
 * @param z       the router z-loss (NaN when not logged)
 */
public record LayerLoad(int layer, double[] load, double maxVio, int dead, double entropy, double aux, double z) {}
