package ai.behemoth.train;

/**
 * The parts of one forward pass's loss.
 *
 * @param total what backward differentiates: ce + auxAlpha·aux + zLoss·z
 * @param ce    mean cross-entropy over the predicted tokens, in nats
 * @param aux   the Switch auxiliary loss summed over MoE layers, unweighted (1.0 per layer at perfect balance)
 * @param z     the router z-loss summed over MoE layers, unweighted
 */
public record Loss(double total, double ce, double aux, double z) {}
