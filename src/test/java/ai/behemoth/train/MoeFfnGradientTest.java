package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.ModelConfig.Router;
import ai.behemoth.model.ModelConfig.RouterWeight;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The float32 MoE block against the independent double reference: forward output, aux and z,
 * and every parameter and input gradient against central finite differences of the reference loss
 * {@code Σ dOut·y + auxAlpha·aux + zLoss·z}.
 */
class MoeFfnGradientTest {
    private static final int D = 8, E = 4, N = 6;
    private static final double STEP = 1e-5, MIN_MARGIN = 1e-3;

    record Case(String name, Router router, RouterWeight weight, boolean renorm, int topK, int shared,
                Balance balance, boolean withBias) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case("mixtral: softmax, output, renorm, aux+z", Router.SOFTMAX, RouterWeight.OUTPUT, true, 2, 0,
                        new Balance(Balance.Mode.AUX, 0.3, 0.2, 0), false),
                new Case("llama4: sigmoid, input, raw, shared, aux+z", Router.SIGMOID, RouterWeight.INPUT, false, 2, 5,
                        new Balance(Balance.Mode.AUX, 0.3, 0.2, 0), false),
                new Case("llama4 top-1: sigmoid, input, raw, shared", Router.SIGMOID, RouterWeight.INPUT, false, 1, 5,
                        new Balance(Balance.Mode.AUX, 0.5, 0.1, 0), false),
                new Case("deepseek: sigmoid, output, renorm, shared, aux-free bias, z", Router.SIGMOID,
                        RouterWeight.OUTPUT, true, 2, 5, new Balance(Balance.Mode.AUX_FREE, 0, 0.2, 0.01), true),
                new Case("softmax, input, renorm, aux-free bias", Router.SOFTMAX, RouterWeight.INPUT, true, 2, 0,
                        new Balance(Balance.Mode.AUX_FREE, 0, 0.1, 0.01), true),
                new Case("softmax, output, raw, no balancing, top-3", Router.SOFTMAX, RouterWeight.OUTPUT, false, 3, 3,
                        Balance.NONE, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardAndGradientsMatchDoubleReference(Case tc) {
        ModelConfig config = MoeFixtures.config(D, E, tc.topK(), 6, tc.shared(), tc.router(), tc.weight(), tc.renorm());
        ParameterLayout layout = new ParameterLayout(config);

        // Draw data until every token has a clear top-k margin, so no finite-difference step flips routing.
        float[] params = null, x = null, dOut = null, bias = new float[E];
        MoeReference.Result ref = null;
        for (long seed = 1; ref == null || ref.minMargin() < MIN_MARGIN; seed++) {
            Random random = new Random(seed);
            params = MoeFixtures.gaussian(random, layout.size(), 0.5);
            x = MoeFixtures.gaussian(random, N * D, 1);
            dOut = MoeFixtures.gaussian(random, N * D, 1);
            if (tc.withBias()) bias = MoeFixtures.gaussian(random, E, 0.2);
            ref = reference(config, tc.balance(), layout, params, x, dOut, bias);
            assertThat(seed).as("no seed with clear margins").isLessThan(100);
        }

        float[] grads = new float[layout.size()];
        MoeFfn moe = new MoeFfn(config, layout, 0, tc.balance(), params, grads, N);
        System.arraycopy(bias, 0, moe.bias(), 0, E);
        float[] out = new float[N * D], dx = new float[N * D];
        moe.forward(x, out, N);
        moe.backward(dOut, dx, N);

        for (int i = 0; i < N * D; i++) assertThat((double) out[i]).as("y[%d]", i).isCloseTo(ref.y()[i], within(1e-5));
        RouterStats stats = moe.stats();
        assertThat(stats.aux()).isCloseTo(ref.aux(), within(1e-6));
        assertThat(stats.z()).isCloseTo(ref.z(), within(1e-5));
        assertThat(stats.counts()).isEqualTo(ref.counts());

        double[] p = MoeFixtures.toDouble(params), xd = MoeFixtures.toDouble(x), g = MoeFixtures.toDouble(dOut);
        double[] b = MoeFixtures.toDouble(bias);
        String prefix = "layers.0.feed_forward.";
        int checked = 0;
        for (ParameterLayout.Entry entry : layout.entries()) {
            if (!entry.name().startsWith(prefix)) {
                for (int i = 0; i < entry.size(); i++)
                    assertThat(grads[entry.offset() + i]).as("%s is outside the block", entry.name()).isZero();
                continue;
            }
            for (int i = entry.offset(); i < entry.offset() + entry.size(); i++) {
                double saved = p[i];
                p[i] = saved + STEP;
                double plus = MoeReference.run(config, tc.balance(), layout, 0, p, xd, N, g, b).loss();
                p[i] = saved - STEP;
                double minus = MoeReference.run(config, tc.balance(), layout, 0, p, xd, N, g, b).loss();
                p[i] = saved;
                assertClose(grads[i], (plus - minus) / (2 * STEP), entry.name() + "[" + (i - entry.offset()) + "]");
                checked++;
            }
        }
        for (int i = 0; i < N * D; i++) {
            double saved = xd[i];
            xd[i] = saved + STEP;
            double plus = MoeReference.run(config, tc.balance(), layout, 0, p, xd, N, g, b).loss();
            xd[i] = saved - STEP;
            double minus = MoeReference.run(config, tc.balance(), layout, 0, p, xd, N, g, b).loss();
            xd[i] = saved;
            assertClose(dx[i], (plus - minus) / (2 * STEP), "dx[" + i + "]");
        }
        assertThat(checked).isGreaterThan(E * D + 3 * E * 6 * D - 1);
    }

    private static MoeReference.Result reference(ModelConfig config, Balance balance, ParameterLayout layout,
                                                 float[] params, float[] x, float[] dOut, float[] bias) {
        return MoeReference.run(config, balance, layout, 0, MoeFixtures.toDouble(params), MoeFixtures.toDouble(x), N,
                MoeFixtures.toDouble(dOut), MoeFixtures.toDouble(bias));
    }

    private static void assertClose(float actual, double expected, String what) {
        assertThat((double) actual).as(what).isCloseTo(expected, within(2e-5 + 1e-4 * Math.abs(expected)));
    }
}
