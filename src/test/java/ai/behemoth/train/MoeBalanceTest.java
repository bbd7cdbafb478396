package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.ModelConfig.Router;
import ai.behemoth.model.ModelConfig.RouterWeight;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Router statistics, the Switch aux loss's normalisation, and the aux-loss-free bias update. */
class MoeBalanceTest {
    private static final int D = 4, E = 4;
    private static final String ROUTER = "layers.0.feed_forward.router.weight";

    /**
     * Token t prefers experts t mod 4 and t+1 mod 4; over whole cycles every expert gets the same
     * share of assignments and the same mean probability.
     */
    @ParameterizedTest
    @EnumSource(Router.class)
    void auxIsOneAtPerfectBalance(Router kind) {
        ModelConfig config = MoeFixtures.config(D, E, 2, 4, 0, kind, RouterWeight.OUTPUT, true);
        ParameterLayout layout = new ParameterLayout(config);
        float[] params = new float[layout.size()];
        int wr = layout.get(ROUTER).offset();
        for (int e = 0; e < E; e++) params[wr + e * D + e] = 3;
        int n = 8;
        float[] x = new float[n * D];
        for (int t = 0; t < n; t++) {
            x[t * D + t % E] = 1;
            x[t * D + (t + 1) % E] = 0.5f;
        }
        RouterStats stats = forward(config, layout, params, x, n, new Balance(Balance.Mode.AUX, 0.01, 0, 0));
        assertThat(stats.counts()).containsExactly(4, 4, 4, 4);
        assertThat(stats.load()).containsExactly(0.25, 0.25, 0.25, 0.25);
        assertThat(stats.maxVio()).isZero();
        assertThat(stats.dead()).isZero();
        assertThat(stats.aux()).isCloseTo(1.0, within(1e-6));
    }

    /** Every token identical: aux = E·Σ_selected (1/k)·q_e, well above 1. */
    @ParameterizedTest
    @EnumSource(Router.class)
    void auxGrowsWhenTokensPileUp(Router kind) {
        ModelConfig config = MoeFixtures.config(D, E, 2, 4, 0, kind, RouterWeight.OUTPUT, true);
        ParameterLayout layout = new ParameterLayout(config);
        float[] params = new float[layout.size()];
        int wr = layout.get(ROUTER).offset();
        float[] logits = {2f, 1f, -1f, -2f};
        for (int e = 0; e < E; e++) params[wr + e * D] = logits[e];
        int n = 5;
        float[] x = new float[n * D];
        for (int t = 0; t < n; t++) x[t * D] = 1;
        RouterStats stats = forward(config, layout, params, x, n, Balance.NONE);

        double[] q = new double[E];
        double total = 0;
        for (int e = 0; e < E; e++) total += q[e] = kind == Router.SOFTMAX ? Math.exp(logits[e]) : 1 / (1 + Math.exp(-logits[e]));
        for (int e = 0; e < E; e++) q[e] /= total;
        assertThat(stats.counts()).containsExactly(5, 5, 0, 0);
        assertThat(stats.dead()).isEqualTo(2);
        assertThat(stats.maxVio()).isCloseTo(1.0, within(1e-12));
        assertThat(stats.aux()).isCloseTo(E * 0.5 * (q[0] + q[1]), within(1e-6)).isGreaterThan(1.2);
        double entropy = 0;
        for (double v : q) entropy -= v * Math.log(v);
        assertThat(stats.entropy()).isCloseTo(entropy, within(1e-6));
        double lse = Math.log(Math.exp(2) + Math.exp(1) + Math.exp(-1) + Math.exp(-2));
        assertThat(stats.z()).isCloseTo(lse * lse, within(1e-5));
    }

    /** A zero router: uniform probabilities, ties broken toward the lower expert index. */
    @Test
    void uniformRouterBreaksTiesTowardLowerIndex() {
        ModelConfig config = MoeFixtures.config(D, E, 2, 4, 0, Router.SOFTMAX, RouterWeight.OUTPUT, true);
        ParameterLayout layout = new ParameterLayout(config);
        int n = 6;
        float[] x = MoeFixtures.gaussian(new Random(3), n * D, 1);
        RouterStats stats = forward(config, layout, new float[layout.size()], x, n, Balance.NONE);
        assertThat(stats.counts()).containsExactly(6, 6, 0, 0);
        assertThat(stats.load()).containsExactly(0.5, 0.5, 0, 0);
        assertThat(stats.entropy()).isCloseTo(Math.log(E), within(1e-6));
        assertThat(stats.aux()).isCloseTo(1.0, within(1e-6));
        assertThat(stats.z()).isCloseTo(Math.log(E) * Math.log(E), within(1e-5));
        assertThat(stats.layer()).isZero();
    }

    @Test
    void updateBiasStepsTowardTheMeanCount() {
        float[] bias = {0.5f, 0, 0, -0.25f};
        MoeFfn.updateBias(bias, new long[]{10, 2, 5, 3}, 0.125);
        assertThat(bias).containsExactly(0.375f, 0.125f, 0f, -0.125f);
    }

    /**
     * Most tokens share a direction the router maps to expert 0; repeated DeepSeek-V3 updates
     * lower expert 0's bias until the load is close to balanced.
     */
    @ParameterizedTest
    @EnumSource(Router.class)
    void auxFreeBiasMovesLoadTowardBalance(Router kind) {
        ModelConfig config = MoeFixtures.config(D, E, 2, 4, 0, kind, RouterWeight.OUTPUT, true);
        ParameterLayout layout = new ParameterLayout(config);
        Random random = new Random(11);
        float[] params = MoeFixtures.gaussian(random, layout.size(), 0.3);
        int wr = layout.get(ROUTER).offset();
        params[wr] = 3;
        int n = 64;
        float[] x = MoeFixtures.gaussian(random, n * D, 0.5);
        for (int t = 0; t < n; t++) x[t * D] += 1;
        Balance balance = new Balance(Balance.Mode.AUX_FREE, 0, 0, 0.01);
        MoeFfn moe = new MoeFfn(config, layout, 0, balance, params, new float[layout.size()], n);
        float[] out = new float[n * D];

        moe.forward(x, out, n);
        RouterStats first = moe.stats();
        assertThat(first.maxVio()).isGreaterThan(0.6);
        RouterStats last = first;
        for (int step = 0; step < 150; step++) {
            MoeFfn.updateBias(moe.bias(), last.counts(), balance.biasGamma());
            moe.forward(x, out, n);
            last = moe.stats();
        }
        assertThat(last.maxVio()).isLessThan(first.maxVio() / 3);
        assertThat(last.dead()).isZero();
        assertThat(moe.bias()[0]).isNegative();
    }

    private static RouterStats forward(ModelConfig config, ParameterLayout layout, float[] params, float[] x, int n,
                                       Balance balance) {
        MoeFfn moe = new MoeFfn(config, layout, 0, balance, params, new float[layout.size()], n);
        moe.forward(x, new float[n * D], n);
        return moe.stats();
    }
}
