package ai.behemoth.eval;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Percentile bootstrap over items (chunks of text, questions, samples). Every score here is a ratio
 * of sums over items, {@code scale · Σ numerator / Σ denominator} (a mean when the denominator is
 * all ones), so one routine serves nats per token, bits per byte and accuracy. Resampling draws
 * item indices with a {@link SplittableRandom} from a fixed seed: the same items and seed give the
 * same interval, bit for bit.
 */
public final class Bootstrap {
    private Bootstrap() {}

    public static final int RESAMPLES = 1000;
    public static final long SEED = 20260501L;

    /** A score and its central 95% interval. */
    public record Interval(double value, double low, double high) {
        public boolean contains(double x) {
            return x >= low && x <= high;
        }
    }

    /** The difference {@code b − a} of a score between two evaluations, its 95% interval, and a two-sided p-value. */
    public record Difference(double value, double low, double high, double p, boolean paired) {}

    /** {@code scale · Σ num / Σ den} and its 95% percentile interval; {@code den} null means ones. */
    public static Interval ratio(double[] num, double[] den, double scale, int resamples, long seed) {
        check(num, den);
        double value = scale * statistic(num, den, null);
        SplittableRandom random = new SplittableRandom(seed);
        double[] stats = new double[resamples];
        int[] pick = new int[num.length];
        for (int r = 0; r < resamples; r++) {
            draw(random, pick);
            stats[r] = scale * statistic(num, den, pick);
        }
        return new Interval(value, percentile(stats, 0.025), percentile(stats, 0.975));
    }

    /**
     * {@code stat(B) − stat(A)} with a bootstrap interval. When {@code paired} (the same items in the
     * same order, as two models on the same data), each resample draws one set of indices for both,
     * so that the items' own difficulty cancels; otherwise A and B are resampled independently. The
     * p-value is twice the share of resampled differences on the far side of zero (at least 1/R).
     */
    public static Difference difference(double[] numA, double[] denA, double[] numB, double[] denB, double scale,
                                        boolean paired, int resamples, long seed) {
        check(numA, denA);
        check(numB, denB);
        if (paired && numA.length != numB.length)
            throw new IllegalArgumentException("paired bootstrap needs the same items: " + numA.length + " vs " + numB.length);
        double value = scale * (statistic(numB, denB, null) - statistic(numA, denA, null));
        SplittableRandom random = new SplittableRandom(seed);
        double[] diffs = new double[resamples];
        int[] pickA = new int[numA.length], pickB = paired ? pickA : new int[numB.length];
        int below = 0, above = 0;
        for (int r = 0; r < resamples; r++) {
            draw(random, pickA);
            if (!paired) draw(random, pickB);
            diffs[r] = scale * (statistic(numB, denB, pickB) - statistic(numA, denA, pickA));
            if (diffs[r] <= 0) below++;
            if (diffs[r] >= 0) above++;
        }
        double p = Math.min(1, Math.max(2.0 * Math.min(below, above) / resamples, 1.0 / resamples));
        return new Difference(value, percentile(diffs, 0.025), percentile(diffs, 0.975), p, paired);
    }

    private static void check(double[] num, double[] den) {
        if (num.length == 0) throw new IllegalArgumentException("no items to score");
        if (den != null && den.length != num.length)
            throw new IllegalArgumentException("numerator and denominator differ in length: " + num.length + " vs " + den.length);
    }

    private static void draw(SplittableRandom random, int[] pick) {
        for (int i = 0; i < pick.length; i++) pick[i] = random.nextInt(pick.length);
    }

    /** Σ num / Σ den over {@code pick} (every item once when null). */
    private static double statistic(double[] num, double[] den, int[] pick) {
        double n = 0, d = 0;
        for (int i = 0; i < num.length; i++) {
            int k = pick == null ? i : pick[i];
            n += num[k];
            d += den == null ? 1 : den[k];
        }
        return n / d;
    }

    /** Linear interpolation between order statistics (numpy's default). */
    static double percentile(double[] values, double q) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos), hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
