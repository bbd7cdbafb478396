package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.Presets;
import ai.behemoth.tensor.Parallel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Whole-model behaviour on each preset, shrunk (byte vocabulary, dim 32, 2 layers, the family's
 * routing, norm and position options kept): initialisation, loss at init, descent along the
 * gradient, determinism across repeats and thread counts, router statistics, bad input.
 */
class TransformerTest {
    private static final int BATCH = 3, SEQ = 16;
    private static final Balance AUX = new Balance(Balance.Mode.AUX, 0.01, 0.001, 0);

    private static ModelConfig shrunk(String preset) {
        ModelConfig p = Presets.get(preset, 256);
        ModelConfig.Builder b = p.toBuilder();
        b.dim = 32;
        b.layers = 2;
        b.heads = 4;
        b.kvHeads = p.kvHeads() == p.heads() ? 4 : 2;
        b.headDim = 8;
        b.ffnHidden = 64;
        b.context = SEQ;
        b.expertHidden = 32;
        b.sharedExpertHidden = p.sharedExpertHidden() > 0 ? 32 : 0;
        b.nopeEvery = p.nopeEvery() > 0 ? 2 : 0;
        return b.build();
    }

    private static ModelConfig dense() {
        return shrunk("dense");
    }

    private static Balance balance(ModelConfig c) {
        return c.experts() > 0 ? AUX : Balance.NONE;
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

    @ParameterizedTest
    @ValueSource(strings = {"dense", "tiny", "mixtral", "qwen3moe", "llama4"})
    void lossAtInitIsNearLnVocabAndFallsAlongTheNegativeGradient(String preset) {
        ModelConfig c = shrunk(preset);
        Transformer model = new Transformer(c, balance(c), BATCH, SEQ);
        model.initialize(1);
        int[] tokens = ids(1, BATCH * SEQ, 256), targets = ids(2, BATCH * SEQ, 256);
        Loss before = model.forward(tokens, targets, BATCH, SEQ);
        assertThat(before.ce()).isCloseTo(Math.log(256), within(0.05));
        if (c.experts() == 0) {
            assertThat(before.aux()).isZero();
            assertThat(before.z()).isZero();
            assertThat(before.total()).isEqualTo(before.ce());
        } else {
            // near-uniform routers at init: each MoE layer's aux is about 1, its z about ln(E)²
            int moeLayers = model.routerStats().size();
            assertThat(before.aux()).isCloseTo(moeLayers, within(0.5 * moeLayers));
            assertThat(before.total()).isEqualTo(before.ce() + AUX.auxAlpha() * before.aux() + AUX.zLoss() * before.z());
        }
        model.zeroGrads();
        model.backward();
        double normSq = 0;
        for (float g : model.grads()) normSq += g * g;
        float step = (float) (0.02 / Math.sqrt(normSq)); // a step of length 0.02 in parameter space
        float[] p = model.params(), g = model.grads();
        for (int i = 0; i < p.length; i++) p[i] -= step * g[i];
        Loss after = model.forward(tokens, targets, BATCH, SEQ);
        // first order: the loss falls by about step·|g|²
        assertThat(before.total() - after.total()).isCloseTo(step * normSq, within(0.1 * step * normSq));
    }

    @ParameterizedTest
    @ValueSource(strings = {"dense", "tiny", "llama4"})
    void forwardAndBackwardRepeatBitForBitAndDoNotDependOnThreadCount(String preset) {
        ModelConfig c = shrunk(preset);
        int[] tokens = ids(3, BATCH * SEQ, 256), targets = ids(4, BATCH * SEQ, 256);
        int saved = Parallel.threads();
        try {
            float[][] first = run(c, tokens, targets, 1), again = run(c, tokens, targets, 1), two = run(c, tokens, targets, 2);
            String[] what = {"loss", "logits", "gradients"};
            for (int i = 0; i < first.length; i++) {
                assertThat(Arrays.mismatch(again[i], first[i])).as(what[i] + ": first differing index, repeated").isEqualTo(-1);
                assertThat(Arrays.mismatch(two[i], first[i])).as(what[i] + ": first differing index, 2 threads").isEqualTo(-1);
            }
        } finally {
            Parallel.setThreads(saved);
        }
    }

    @Test
    void bitsStayTheSameWhileTheJitCompilesTheKernels() {
        // the first steps run interpreted, later ones compiled (here after about 30): vector exp and
        // lane sums must not change bits, as VectorOperators.EXP and reduceLanes(ADD) would
        ModelConfig c = shrunk("tiny");
        Transformer model = new Transformer(c, AUX, BATCH, SEQ);
        model.initialize(5);
        int[] tokens = ids(3, BATCH * SEQ, 256), targets = ids(4, BATCH * SEQ, 256);
        double firstLoss = model.forward(tokens, targets, BATCH, SEQ).total();
        model.zeroGrads();
        model.backward();
        float[] firstGrads = model.grads().clone();
        for (int step = 1; step < 60; step++) {
            assertThat(model.forward(tokens, targets, BATCH, SEQ).total()).as("loss at repeat " + step).isEqualTo(firstLoss);
            model.zeroGrads();
            model.backward();
            assertThat(Arrays.mismatch(model.grads(), firstGrads)).as("first differing gradient at repeat " + step).isEqualTo(-1);
        }
    }

    /** Loss, logits and gradients of one step, with the given pool size; the forward is run twice. */
    private static float[][] run(ModelConfig c, int[] tokens, int[] targets, int threads) {
        Parallel.setThreads(threads);
        Transformer model = new Transformer(c, balance(c), BATCH, SEQ);
        model.initialize(5);
        double loss = model.forward(tokens, targets, BATCH, SEQ).total();
        assertThat(model.forward(tokens, targets, BATCH, SEQ).total()).isEqualTo(loss);
        model.zeroGrads();
        model.backward();
        return new float[][]{{(float) loss}, model.logits().clone(), model.grads().clone()};
    }

    @ParameterizedTest
    @ValueSource(strings = {"dense", "mixtral"})
    void smallerBatchesInALargerModelGiveTheSameBits(String preset) {
        ModelConfig c = shrunk(preset);
        int[] tokens = ids(5, 2 * 7, 256), targets = ids(6, 2 * 7, 256);
        Transformer exact = new Transformer(c, balance(c), 2, 7), large = new Transformer(c, balance(c), BATCH, SEQ);
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

    @ParameterizedTest
    @ValueSource(strings = {"tiny", "qwen3moe", "llama4"})
    void routerStatisticsAndBiasesComeFromEachMoeLayerInOrder(String preset) {
        ModelConfig c = shrunk(preset);
        Transformer model = new Transformer(c, new Balance(Balance.Mode.AUX_FREE, 0, 0.001, 0.01), BATCH, SEQ);
        model.initialize(2);
        int[] tokens = ids(9, BATCH * SEQ, 256);
        model.forward(tokens, ids(10, BATCH * SEQ, 256), BATCH, SEQ);
        java.util.List<Integer> moeLayers = new java.util.ArrayList<>();
        for (int l = 0; l < c.layers(); l++) if (c.isMoeLayer(l)) moeLayers.add(l);
        assertThat(model.routerStats()).extracting(RouterStats::layer).containsExactlyElementsOf(moeLayers);
        for (RouterStats s : model.routerStats())
            assertThat(Arrays.stream(s.counts()).sum()).isEqualTo((long) BATCH * SEQ * c.topK());
        float[][] bias = model.routerBias();
        assertThat(bias.length).isEqualTo(moeLayers.size());
        for (float[] b : bias) assertThat(b).hasSize(c.experts()).containsOnly(0f);

        // the arrays are live: a large bias on expert 0 of the first MoE layer sends every token there
        bias[0][0] = 100f;
        model.forward(tokens, null, BATCH, SEQ);
        assertThat(model.routerStats().get(0).counts()[0]).isEqualTo((long) BATCH * SEQ);
        model.initialize(2);
        assertThat(model.routerBias()[0][0]).isZero();
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
        assertThatThrownBy(() -> new Transformer(dense(), Balance.NONE, 1 << 16, 1 << 16))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("exceed 2^31");
    }
}
