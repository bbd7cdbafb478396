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

    /** One forward and backward from zeroed gradients; returns copies of everything it produced. */
    private static Run run(MoeFfn moe, float[] grads, float[] x, float[] dOut) {
        Arrays.fill(grads, 0);
        float[] out = new float[N * D], dx = new float[N * D];
        moe.forward(x, out, N);
        moe.backward(dOut, dx, N);
        return new Run(out, dx, grads.clone(), moe.stats());
    }
}
