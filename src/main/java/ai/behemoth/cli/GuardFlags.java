package ai.behemoth.cli;

import ai.behemoth.train.GuardOptions;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** The stability guard's flags of {@code behemoth train}; unset flags keep the defaults (or, on resume, the saved values). */
final class GuardFlags {
    @Option(names = "--guard", paramLabel = "on|off", converter = OnOff.class,
            description = "Stability guard: skip bad steps (non-finite, loss or gradient-norm spikes), roll back after repeated ones (default: on).")
    Boolean guard;

    @Option(names = "--guard-window", paramLabel = "N", description = "Good steps in the rolling mean/std spikes are judged against (default: 50).")
    Integer window;

    @Option(names = "--guard-loss-z", paramLabel = "Z", description = "A loss this many standard deviations above the window's mean is a spike (default: 6).")
    Double lossZ;

    @Option(names = "--guard-grad-z", paramLabel = "Z", description = "The same for the gradient norm (default: 6).")
    Double gradZ;

    @Option(names = "--guard-max-bad", paramLabel = "K", description = "K bad steps within --guard-bad-window roll back to the last good checkpoint (default: 3).")
    Integer maxBad;

    @Option(names = "--guard-bad-window", paramLabel = "N", description = "Steps over which bad steps are counted (default: 20).")
    Integer badWindow;

    @Option(names = "--guard-lr-drop", paramLabel = "X", description = "Multiply the learning rate by X after each rollback; 1 keeps it (default: 0.5).")
    Double lrDrop;

    GuardOptions applyTo(GuardOptions base) {
        return new GuardOptions(guard != null ? guard : base.enabled(), window != null ? window : base.window(),
                lossZ != null ? lossZ : base.lossZ(), gradZ != null ? gradZ : base.gradZ(),
                maxBad != null ? maxBad : base.maxBad(), badWindow != null ? badWindow : base.badWindow(),
                lrDrop != null ? lrDrop : base.lrDrop()).validate();
    }

    static final class OnOff implements ITypeConverter<Boolean> {
        @Override
        public Boolean convert(String value) {
            return switch (value) {
                case "on" -> true;
                case "off" -> false;
                default -> throw new TypeConversionException("'" + value + "' is not on or off");
            };
        }
    }
}
