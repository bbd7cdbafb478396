package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.Presets;
import ai.behemoth.tensor.Parallel;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Whole-model behaviour on a shrunk {@code dense} preset: initialisation, determinism, descent, bad input. */
class TransformerTest {
    private static final int BATCH = 3, SEQ = 16;

    private static ModelConfig dense() {
        ModelConfig.Builder b = Presets.get("dense", 256).toBuilder();
        b.dim = 32;
        b.layers = 2;
        b.heads = 4;
        b.kvHeads = 2;
        b.headDim = 8;
        b.ffnHidden = 64;
        b.context = SEQ;
        return b.build();
    }

    private static int[] ids(long seed, int n, int vocab) {
        SplittableRandom random = new SplittableRandom(seed);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) ids[i] = random.nextInt(vocab);
        return ids;
    }

    @Test
    void initializationIsTruncatedNormalAndDeterministic() {
        ModelConfig c = dense();
        Transformer a = new Transformer(c, Balance.NONE, 1, 4), b = new Transformer(c, Balance.NONE, 1, 4);
        a.initialize(7);
        b.initialize(7);
        assertThat(a.params()).isEqualTo(b.params());
        b.initialize(8);
        assertThat(Arrays.equals(a.params(), b.params())).isFalse();

        double std = c.initStd(), sumSq = 0;
        long count = 0;
        for (ParameterLayout.Entry e : a.layout().entries()) {
            for (int i = e.offset(); i < e.offset() + e.size(); i++) {
                float v = a.params()[i];
                if (!e.decay()) {
                    assertThat(v).as(e.name()).isEqualTo(1f);
                } else {
                    assertThat(Math.abs(v)).as(e.name()).isLessThanOrEqualTo((float) (2 * std));
                    sumSq += (double) v * v;
                    count++;
                }
            }
        }
        // a normal truncated at ±2σ has standard deviation 0.880σ
        assertThat(Math.sqrt(sumSq / count)).isCloseTo(0.880 * std, within(0.02 * std));
    }

    @Test
    void lossAtInitIsNearLnVocabAndFallsAlongTheNegativeGradient() {
        ModelConfig c = dense();
        Transformer model = new Transformer(c, Balance.NONE, BATCH, SEQ);
        model.initialize(1);
        int[] tokens = ids(1, BATCH * SEQ, 256), targets = ids(2, BATCH * SEQ, 256);
        Loss before = model.forward(tokens, targets, BATCH, SEQ);
        assertThat(before.ce()).isCloseTo(Math.log(256), within(0.05));
        assertThat(before.aux()).isZero();
        assertThat(before.z()).isZero();
        model.zeroGrads();
        model.backward();
        double normSq = 0;
        for (float g : model.grads()) normSq += g * g;
        float step = (float) (0.02 / Math.sqrt(normSq)); // a step of length 0.02 in parameter space
        float[] p = model.params(), g = model.grads();
        for (int i = 0; i < p.length; i++) p[i] -= step * g[i];
        Loss after = model.forward(tokens, targets, BATCH, SEQ);
        // first order: the loss falls by about step·|g|²
        assertThat(before.ce() - after.ce()).isCloseTo(step * normSq, within(0.1 * step * normSq));
    }

    @Test
    void forwardAndBackwardRepeatBitForBitAndDoNotDependOnThreadCount() {
        ModelConfig c = dense();
        int[] tokens = ids(3, BATCH * SEQ, 256), targets = ids(4, BATCH * SEQ, 256);
        int saved = Parallel.threads();
        try {
            float[][] first = run(c, tokens, targets, 1), again = run(c, tokens, targets, 1), two = run(c, tokens, targets, 2);
            for (int i = 0; i < first.length; i++) {
                assertThat(again[i]).isEqualTo(first[i]);
                assertThat(two[i]).isEqualTo(first[i]);
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    /** Loss, logits and gradients of one step, with the given pool size; the forward is run twice. */
    private static float[][] run(ModelConfig c, int[] tokens, int[] targets, int threads) {
        Parallel.setThreads(threads);
        Transformer model = new Transformer(c, Balance.NONE, BATCH, SEQ);
        model.initialize(5);
        double loss = model.forward(tokens, targets, BATCH, SEQ).total();
        assertThat(model.forward(tokens, targets, BATCH, SEQ).total()).isEqualTo(loss);
        model.zeroGrads();
        model.backward();
        return new float[][]{{(float) loss}, model.logits().clone(), model.grads().clone()};
    }

    @Test
    void smallerBatchesInALargerModelGiveTheSameBits() {
        ModelConfig c = dense();
        int[] tokens = ids(5, 2 * 7, 256), targets = ids(6, 2 * 7, 256);
        Transformer exact = new Transformer(c, Balance.NONE, 2, 7), large = new Transformer(c, Balance.NONE, BATCH, SEQ);
        exact.initialize(9);
        large.initialize(9);
        Loss a = exact.forward(tokens, targets, 2, 7), b = large.forward(tokens, targets, 2, 7);
        assertThat(b.total()).isEqualTo(a.total());
        exact.zeroGrads();
        exact.backward();
        large.zeroGrads();
        large.backward();
        assertThat(large.grads()).isEqualTo(exact.grads());
    }

    @Test
    void inferenceForwardGivesLogitsOnly() {
        ModelConfig c = dense();
        Transformer model = new Transformer(c, Balance.NONE, 1, SEQ);
        model.initialize(1);
        int[] tokens = ids(7, SEQ, 256);
        assertThat(model.forward(tokens, null, 1, SEQ)).isNull();
        float[] logits = Arrays.copyOf(model.logits(), SEQ * 256);
        model.forward(tokens, ids(8, SEQ, 256), 1, SEQ);
        assertThat(Arrays.copyOf(model.logits(), SEQ * 256)).isEqualTo(logits);
        model.forward(tokens, null, 1, SEQ);
        assertThatThrownBy(model::backward).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void badInputIsRejectedWithAClearMessage() {
        Transformer model = new Transformer(dense(), Balance.NONE, 2, 4);
        int[] ok = new int[8];
        assertThatThrownBy(() -> model.forward(new int[]{0, 1, 256, 0, 0, 0, 0, 0}, ok, 2, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("token id 256");
        assertThatThrownBy(() -> model.forward(ok, new int[]{-1, 0, 0, 0, 0, 0, 0, 0}, 2, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("target id -1");
        assertThatThrownBy(() -> model.forward(new int[12], null, 3, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 × 4");
        assertThatThrownBy(() -> model.forward(new int[3], null, 1, 4))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("holds 3");
    }
}
