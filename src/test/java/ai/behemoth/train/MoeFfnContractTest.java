package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.ModelConfig.Router;
import ai.behemoth.model.ModelConfig.RouterWeight;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What the block refuses, and what it does with degenerate input. */
class MoeFfnContractTest {
    private static final int D = 4;
    private final ModelConfig config = MoeFixtures.config(D, 4, 2, 4, 0, Router.SOFTMAX, RouterWeight.OUTPUT, true);
    private final ParameterLayout layout = new ParameterLayout(config);

    private MoeFfn block(float[] params, int maxTokens) {
        return new MoeFfn(config, layout, 0, Balance.NONE, params, new float[layout.size()], maxTokens);
    }

    @Test
    void refusesMoreTokensThanItWasBuiltFor() {
        MoeFfn moe = block(new float[layout.size()], 3);
        assertThatThrownBy(() -> moe.forward(new float[4 * D], new float[4 * D], 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4 tokens, built for at most 3");
    }

    @Test
    void refusesBackwardThatDoesNotMatchTheForward() {
        MoeFfn moe = block(new float[layout.size()], 3);
        assertThatThrownBy(() -> moe.backward(new float[3 * D], new float[3 * D], 3))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("after a forward over -1");
        moe.forward(new float[3 * D], new float[3 * D], 3);
        assertThatThrownBy(() -> moe.backward(new float[2 * D], new float[2 * D], 2))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("backward over 2 tokens");
    }

    @Test
    void refusesADenseLayer() {
        ModelConfig.Builder b = config.toBuilder();
        b.layers = 2;
        b.moeEvery = 2;
        b.ffnHidden = 8;
        ModelConfig everyOther = b.build();
        ParameterLayout l = new ParameterLayout(everyOther);
        assertThatThrownBy(() -> new MoeFfn(everyOther, l, 0, Balance.NONE, new float[l.size()], new float[l.size()], 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("layer 0 is not a MoE layer");
    }

    @Test
    void nanRouterStillSelectsDistinctExperts() {
        float[] params = new float[layout.size()];
        Arrays.fill(params, layout.get("layers.0.feed_forward.router.weight").offset(),
                layout.get("layers.0.feed_forward.experts.w1").offset(), Float.NaN);
        MoeFfn moe = block(params, 3);
        float[] out = new float[3 * D];
        moe.forward(new float[]{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, out, 3);
        assertThat(moe.stats().counts()).containsExactly(3, 3, 0, 0);
    }

    @Test
    void zeroTokensIsANoOp() {
        MoeFfn moe = block(new float[layout.size()], 3);
        moe.forward(new float[0], new float[0], 0);
        moe.backward(new float[0], new float[0], 0);
        assertThat(moe.stats().counts()).containsExactly(0, 0, 0, 0);
        assertThat(moe.stats().aux()).isZero();
    }
}
