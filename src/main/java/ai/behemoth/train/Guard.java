package ai.behemoth.train;

import java.util.ArrayDeque;

/**
 * The stability guard's judgement of each step: a step is bad when its loss or gradient norm is
 * not finite, or when either spikes, that is lies more than {@link GuardOptions#lossZ} (or
 * {@link GuardOptions#gradZ}) standard deviations above the mean of the last {@link GuardOptions#window}
 * good steps. Spikes are judged only once the window is full, so the fast early fall of the loss
 * (and rise of the gradient norm) is never mistaken for one; and the standard deviation counts as at
 * least a fraction of the mean ({@link #LOSS_MIN_STD}, {@link #GRAD_MIN_STD}), so a steady window does
 * not turn noise into spikes. The gradient norm's floor is higher: it wanders by factors of two in
 * healthy runs, while the spikes that matter are orders of magnitude.
 *
 * <p>The {@link Trainer} skips the update of a bad step and, when {@link GuardOptions#maxBad} bad
 * steps fall within {@link GuardOptions#badWindow} steps, rolls back. Everything the guard
 * remembers is in {@link State}, saved in trainer.json, so a resumed run judges as an uninterrupted one.
 */
public final class Guard {
    /** The smallest standard deviation a window of losses (gradient norms) is taken to have, as a fraction of its mean. */
    static final double LOSS_MIN_STD = 0.05, GRAD_MIN_STD = 0.25;

    public static final String NONFINITE_LOSS = "nonfinite_loss", NONFINITE_GRAD = "nonfinite_grad",
            LOSS_SPIKE = "loss_spike", GRAD_SPIKE = "grad_spike";

    /**
     * What trainer.json keeps of the guard.
     *
     * @param lrScale   the product of the LR drops of all rollbacks so far
     * @param losses    the rolling window of good losses, oldest first
     * @param gradNorms the rolling window of good gradient norms, oldest first
     * @param badSteps  the bad steps still inside the bad-step window
     */
    public record State(GuardOptions options, double lrScale, double[] losses, double[] gradNorms, int[] badSteps,
                        int skips, int rollbacks) {}

    /**
     * Why a step is bad.
     *
     * @param reason one of the reason constants
     * @param value  the offending loss or gradient norm
     * @param mean   for a spike, the window's mean (NaN otherwise); likewise {@code std} and {@code zscore}
     */
    public record Verdict(String reason, double value, double mean, double std, double zscore) {
        public boolean spike() {
            return reason.equals(LOSS_SPIKE) || reason.equals(GRAD_SPIKE);
        }
    }

    private final GuardOptions options;
    private final ArrayDeque<Double> losses = new ArrayDeque<>(), gradNorms = new ArrayDeque<>();
    private final ArrayDeque<Integer> badSteps = new ArrayDeque<>();
    private double lrScale = 1;
    private int skips, rollbacks;

    public Guard(GuardOptions options) {
        this.options = options.validate();
    }

    /** A guard that continues from a saved state, under {@code options} (which may differ from the saved ones). */
    public Guard(GuardOptions options, State saved) {
        this(options);
        for (double l : saved.losses()) losses.add(l);
        for (double g : saved.gradNorms()) gradNorms.add(g);
        for (int s : saved.badSteps()) badSteps.add(s);
        trim(losses);
        trim(gradNorms);
        lrScale = saved.lrScale();
        skips = saved.skips();
        rollbacks = saved.rollbacks();
    }

    public State state() {
        return new State(options, lrScale, unbox(losses), unbox(gradNorms),
                badSteps.stream().mapToInt(Integer::intValue).toArray(), skips, rollbacks);
    }

    public GuardOptions options() { return options; }

    public double lrScale() { return lrScale; }

    public int skips() { return skips; }

    public int rollbacks() { return rollbacks; }

    /** Judges a step's loss and gradient norm (before clipping): null when it is good or the guard is off. */
    public Verdict judge(double loss, double gradNorm) {
        if (!options.enabled()) return null;
        if (!Double.isFinite(loss)) return new Verdict(NONFINITE_LOSS, loss, Double.NaN, Double.NaN, Double.NaN);
        if (!Double.isFinite(gradNorm)) return new Verdict(NONFINITE_GRAD, gradNorm, Double.NaN, Double.NaN, Double.NaN);
        Verdict v = spike(LOSS_SPIKE, loss, losses, options.lossZ(), LOSS_MIN_STD);
        return v != null ? v : spike(GRAD_SPIKE, gradNorm, gradNorms, options.gradZ(), GRAD_MIN_STD);
    }

    private Verdict spike(String reason, double value, ArrayDeque<Double> window, double threshold, double minStd) {
        if (window.size() < options.window()) return null;
        double mean = 0;
        for (double x : window) mean += x;
        mean /= window.size();
        double var = 0;
        for (double x : window) var += (x - mean) * (x - mean);
        double std = Math.max(Math.sqrt(var / (window.size() - 1)), minStd * Math.abs(mean));
        double z = (value - mean) / std;
        return z > threshold ? new Verdict(reason, value, mean, std, z) : null;
    }

    /** A good step: its figures join the rolling windows. */
    public void good(double loss, double gradNorm) {
        losses.add(loss);
        gradNorms.add(gradNorm);
        trim(losses);
        trim(gradNorms);
    }

    /** A bad (skipped) step; returns true when it makes {@code maxBad} within the bad-step window: time to roll back. */
    public boolean bad(int step) {
        skips++;
        badSteps.add(step);
        while (badSteps.peekFirst() <= step - options.badWindow()) badSteps.removeFirst();
        return badSteps.size() >= options.maxBad();
    }

    /** True when a bad step lies in the bad-step window before {@code step}: the state is not known to be good. */
    public boolean recentBad(int step) {
        return !badSteps.isEmpty() && badSteps.peekLast() > step - options.badWindow();
    }

    /** After a rollback: the bad steps are forgiven and the learning rate drops. */
    public void rolledBack() {
        badSteps.clear();
        rollbacks++;
        lrScale *= options.lrDrop();
    }

    private void trim(ArrayDeque<Double> window) {
        while (window.size() > options.window()) window.removeFirst();
    }

    private static double[] unbox(ArrayDeque<Double> d) {
        return d.stream().mapToDouble(Double::doubleValue).toArray();
    }
}
