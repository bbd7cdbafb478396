package ai.behemoth.cli;

import ai.behemoth.train.TrainOptions;
import ai.behemoth.train.TrainOptions.BalanceMode;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** The MoE load-balancing flags shared by {@code behemoth train} and {@code behemoth bench train}; unset flags are null. */
final class BalanceFlags {
    @Option(names = "--balance", paramLabel = "none|aux|aux-free", converter = ModeConverter.class,
            description = "Load balancing: none, the Switch auxiliary loss, or DeepSeek-V3's aux-loss-free bias (default: aux).")
    BalanceMode balance;

    @Option(names = "--aux-alpha", paramLabel = "X", description = "Weight of the Switch auxiliary loss (default: 0.01).")
    Double auxAlpha;

    @Option(names = "--bias-gamma", paramLabel = "X", description = "Step of the aux-loss-free bias update (default: 0.001).")
    Double biasGamma;

    @Option(names = "--z-loss", paramLabel = "X", description = "Weight of the router z-loss (default: 0.001).")
    Double zLoss;

    void applyTo(TrainOptions.Builder b) {
        if (balance != null) b.balance = balance;
        if (auxAlpha != null) b.auxAlpha = auxAlpha;
        if (biasGamma != null) b.biasGamma = biasGamma;
        if (zLoss != null) b.zLoss = zLoss;
    }

    static final class ModeConverter implements ITypeConverter<BalanceMode> {
        @Override
        public BalanceMode convert(String value) {
            return switch (value) {
                case "none" -> BalanceMode.NONE;
                case "aux" -> BalanceMode.AUX;
                case "aux-free" -> BalanceMode.AUX_FREE;
                default -> throw new TypeConversionException("'" + value + "' is not a balance mode (none, aux or aux-free)");
            };
        }
    }
}
