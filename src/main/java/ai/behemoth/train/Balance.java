package ai.behemoth.train;

/**
 * How MoE routers are kept balanced during training.
 *
 * @param mode      none, the Switch auxiliary loss, or DeepSeek-V3's aux-loss-free selection bias
 * @param auxAlpha  weight of the Switch auxiliary loss (mode AUX only); the loss is E·Σ f_e·P_e per
 *                  MoE layer, 1.0 at perfect balance, summed over MoE layers
 * @param zLoss     weight of the router z-loss, mean over tokens of logsumexp(router logits)², summed
 *                  over MoE layers; applies in every mode
 * @param biasGamma step size of the selection-bias update (mode AUX_FREE only)
 */
public record Balance(Mode mode, double auxAlpha, double zLoss, double biasGamma) {
    public enum Mode { NONE, AUX, AUX_FREE }

    public static final Balance NONE = new Balance(Mode.NONE, 0, 0, 0);

    public Balance {
        if (mode == null) throw new IllegalArgumentException("balance mode must be set");
        if (auxAlpha < 0 || zLoss < 0 || biasGamma < 0)
            throw new IllegalArgumentException("aux-alpha, z-loss and bias-gamma must not be negative");
    }

    /** The auxiliary-loss weight that actually applies: zero unless the mode is AUX. */
    public double effectiveAuxAlpha() {
        return mode == Mode.AUX ? auxAlpha : 0;
    }
}
