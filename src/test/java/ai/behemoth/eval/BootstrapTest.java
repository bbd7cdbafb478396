package ai.behemoth.eval;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class BootstrapTest {
    /**
     * 200 synthetic data sets of 100 per-item scores (uniform on [0, 4), mean 2): the 95% interval
     * should hold the true mean in about 95% of them. With 200 trials the count's standard deviation
     * is sqrt(200 · 0.95 · 0.05) ≈ 3.1, so 3.5 sd either side: 183 to 200.
     */
    @Test
    void intervalCoversTheTruthAtAboutTheStatedRate() {
        SplittableRandom random = new SplittableRandom(7);
        int covered = 0, trials = 200;
        for (int t = 0; t < trials; t++) {
            double[] x = new double[100];
            for (int i = 0; i < x.length; i++) x[i] = 4 * random.nextDouble();
            if (Bootstrap.ratio(x, null, 1, 1000, t).contains(2.0)) covered++;
        }
        assertThat(covered).isBetween(183, 200);
    }

    @Test
    void ratioOfSumsAndItsIntervalAreReproducible() {
        double[] num = {3, 5, 7, 2}, den = {1, 2, 3, 1};
        Bootstrap.Interval a = Bootstrap.ratio(num, den, 2, 500, 42), b = Bootstrap.ratio(num, den, 2, 500, 42);
        assertThat(a.value()).isEqualTo(2 * 17.0 / 7);
        assertThat(a).isEqualTo(b);
        assertThat(a.low()).isLessThanOrEqualTo(a.value());
        assertThat(a.high()).isGreaterThanOrEqualTo(a.value());
    }

    /** The same items scored by two models, one better by a small constant: paired sees it, unpaired does not. */
    @Test
    void pairedBootstrapCancelsItemDifficulty() {
        SplittableRandom random = new SplittableRandom(3);
        double[] a = new double[200], b = new double[200];
        for (int i = 0; i < a.length; i++) {
            a[i] = 5 * random.nextDouble(); // items differ a lot in difficulty
            b[i] = a[i] - 0.05 + 0.01 * random.nextDouble();
        }
        Bootstrap.Difference paired = Bootstrap.difference(a, null, b, null, 1, true, 1000, 1);
        Bootstrap.Difference unpaired = Bootstrap.difference(a, null, b, null, 1, false, 1000, 1);
        assertThat(paired.high()).isLessThan(0);
        assertThat(paired.p()).isLessThanOrEqualTo(0.001);
        assertThat(unpaired.low()).isLessThan(0);
        assertThat(unpaired.high()).isGreaterThan(0);
        assertThat(unpaired.p()).isGreaterThan(0.05);
    }
}
