package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.ModelConfig.Router;
import ai.behemoth.model.ModelConfig.RouterWeight;
import ai.behemoth.tensor.Parallel;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Same input, same bits: twice on one block, on a fresh block, and on one thread versus all. */
class MoeDeterminismTest {
    private static final int N = 300, D = 16;

    private record Run(float[] out, float[] dx, float[] grads, RouterStats stats) {}

    @Test
    void sameInputGivesIdenticalBits() {
        ModelConfig config = MoeFixtures.config(D, 8, 2, 24, 8, Router.SIGMOID, RouterWeight.INPUT, true);
        ParameterLayout layout = new ParameterLayout(config);
        Random random = new Random(5);
        float[] params = MoeFixtures.gaussian(random, layout.size(), 0.2);
        float[] x = MoeFixtures.gaussian(random, N * D, 1);
        float[] dOut = MoeFixtures.gaussian(random, N * D, 1);
        Balance balance = new Balance(Balance.Mode.AUX, 0.01, 0.001, 0);

        float[] grads = new float[layout.size()];
        MoeFfn moe = new MoeFfn(config, layout, 0, balance, params, grads, N);
        Run first = run(moe, grads, x, dOut);
        Run again = run(moe, grads, x, dOut);
        float[] freshGrads = new float[layout.size()];
        Run fresh = run(new MoeFfn(config, layout, 0, balance, params, freshGrads, N), freshGrads, x, dOut);
        int threads = Parallel.threads();
        Run single;
        try {
            Parallel.setThreads(1);
            float[] singleGrads = new float[layout.size()];
            single = run(new MoeFfn(config, layout, 0, balance, params, singleGrads, N), singleGrads, x, dOut);
        } finally {
            Parallel.setThreads(threads);
        }
        for (Run other : new Run[]{again, fresh, single}) {
            assertThat(other.out()).isEqualTo(first.out());
            assertThat(other.dx()).isEqualTo(first.dx());
            assertThat(other.grads()).isEqualTo(first.grads());
            assertThat(other.stats().aux()).isEqualTo(first.stats().aux());
            assertThat(other.stats().z()).isEqualTo(first.stats().z());
            assertThat(other.stats().counts()).isEqualTo(first.stats().counts());
        }
        assertThat(first.grads()).as("backward produced gradients").isNotEqualTo(new float[first.grads().length]);
    }

    /**
     * Two threads run balanced experts whole, one per thread, but an expert holding more than one
     * thread's share of the rows one after another with its products spread: both give the bits of
     * one thread. Top-1 routing over 600 tokens, so that the products are large enough to be spread;
     * a selection bias of 100 on expert 0 sends every token there.
     */
    @Test
    void balancedAndDominatedRoutingGiveTheOneThreadBitsOnTwoThreads() {
        int n = 600, threads = Parallel.threads();
        for (float bias : new float[]{0f, 100f}) {
            ModelConfig config = MoeFixtures.config(D, 4, 1, 24, 0, Router.SOFTMAX, RouterWeight.OUTPUT, false);
            ParameterLayout layout = new ParameterLayout(config);
            Random random = new Random(7);
            float[] params = MoeFixtures.gaussian(random, layout.size(), 0.2);
            float[] x = MoeFixtures.gaussian(random, n * D, 1), dOut = MoeFixtures.gaussian(random, n * D, 1);
            Balance balance = new Balance(Balance.Mode.AUX_FREE, 0, 0.001, 0.001);
            Run[] runs = new Run[2];
            try {
                for (int t = 1; t <= 2; t++) {
                    Parallel.setThreads(t);
                    float[] grads = new float[layout.size()];
                    MoeFfn moe = new MoeFfn(config, layout, 0, balance, params, grads, n);
                    moe.bias()[0] = bias;
                    runs[t - 1] = run(moe, grads, x, dOut, n);
                }
            } finally {
                Parallel.setThreads(threads);
            }
            long most = Arrays.stream(runs[0].stats().counts()).max().orElseThrow();
            if (bias > 0) assertThat(most).as("every token on expert 0").isEqualTo(n);
            else assertThat(2 * most).as("no expert above one thread's share").isLessThanOrEqualTo(n);
            assertThat(runs[1].out()).isEqualTo(runs[0].out());
            assertThat(runs[1].dx()).isEqualTo(runs[0].dx());
            assertThat(runs[1].grads()).isEqualTo(runs[0].grads());
        }
    }

    /** One forward and backward from zeroed gradients; returns copies of everything it produced. */
    private static Run run(MoeFfn moe, float[] grads, float[] x, float[] dOut) {
        return run(moe, grads, x, dOut, N);
    }

    private static Run run(MoeFfn moe, float[] grads, float[] x, float[] dOut, int n) {
        Arrays.fill(grads, 0);
        float[] out = new float[n * D], dx = new float[n * D];
        moe.forward(x, out, n);
        moe.backward(dOut, dx, n);
        return new Run(out, dx, grads.clone(), moe.stats());
    }
}
