package ai.behemoth.train;

/**
 * The stability guard's settings ({@code --guard*} flags of {@code behemoth train}).
 *
 * @param enabled   false ({@code --guard off}): every update is applied, whatever its loss
 * @param window    good steps the rolling mean and standard deviation of loss and gradient norm cover
 * @param lossZ     a loss more than this many standard deviations above the window's mean is a spike
 * @param gradZ     the same for the gradient norm (before clipping)
 * @param maxBad    this many bad (skipped) steps within {@code badWindow} steps trigger a rollback
 * @param badWindow the span, in steps, over which bad steps are counted
 * @param lrDrop    the learning rate is multiplied by this after each rollback (1: unchanged)
 */
public record GuardOptions(boolean enabled, int window, double lossZ, double gradZ, int maxBad, int badWindow,
                           double lrDrop) {

    /** Defaults: a spike is 6 standard deviations over the last 50 good steps; 3 bad steps in 20 roll back and halve the LR. */
    public static final GuardOptions DEFAULTS = new GuardOptions(true, 50, 6, 6, 3, 20, 0.5);

    /** Checks every setting, naming the flag of the first bad one; returns this. */
    public GuardOptions validate() {
        if (window < 2) throw new IllegalArgumentException("--guard-window must be at least 2, got " + window);
        if (!(lossZ > 0)) throw new IllegalArgumentException("--guard-loss-z must be positive, got " + lossZ);
        if (!(gradZ > 0)) throw new IllegalArgumentException("--guard-grad-z must be positive, got " + gradZ);
        if (maxBad < 1) throw new IllegalArgumentException("--guard-max-bad must be at least 1, got " + maxBad);
        if (badWindow < maxBad)
            throw new IllegalArgumentException("--guard-bad-window must be at least --guard-max-bad (" + maxBad + "), got " + badWindow);
        if (!(lrDrop > 0 && lrDrop <= 1)) throw new IllegalArgumentException("--guard-lr-drop must be in (0, 1], got " + lrDrop);
        return this;
    }

    public GuardOptions withEnabled(boolean on) {
        return new GuardOptions(on, window, lossZ, gradZ, maxBad, badWindow, lrDrop);
    }
}
