package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.ModelConfig.QkNorm;
import ai.behemoth.model.ModelConfig.Router;
import ai.behemoth.model.ModelConfig.RouterWeight;
import ai.behemoth.model.Presets;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The float32 model's loss, logits and every parameter gradient against an independent
 * double-precision reference ({@link ReferenceTransformer}) and central finite differences on
 * it, at tiny shapes: dense layers with every attention variant, and each MoE preset shrunk.
 */
class TransformerGradientTest {
    private static final int BATCH = 2, SEQ = 5;
    private static final Balance AUX = new Balance(Balance.Mode.AUX, 0.1, 0.01, 0);

    /** vocab 11, dim 8, 2 layers, head_dim 4 (so H·hd differs from dim), FFN 12. */
    private static ModelConfig dense(int heads, int kvHeads, int nopeEvery, QkNorm qkNorm, boolean tied) {
        return new ModelConfig(11, 8, 2, heads, kvHeads, 4, 16, 100, 1e-5, 12, 0, 0, 0, 0, 1,
                Router.SOFTMAX, RouterWeight.OUTPUT, true, nopeEvery, qkNorm, tied, 0.02);
    }

    /**
     * A preset at finite-difference size, keeping its family's options: 2 layers, 4 experts, top-k
     * at most 2, and NoPE on layer 1 when the family skips RoPE anywhere.
     */
    private static ModelConfig shrunk(String preset) {
        ModelConfig p = Presets.get(preset, 11);
        ModelConfig.Builder b = p.toBuilder();
        b.dim = 8;
        b.layers = 2;
        b.nopeEvery = p.nopeEvery() > 0 ? 2 : 0;
        b.heads = 4;
        b.kvHeads = p.kvHeads() == p.heads() ? 4 : 2;
        b.headDim = 4;
        b.context = 16;
        b.ropeTheta = 100;
        b.ffnHidden = 12;
        b.experts = 4;
        b.topK = Math.min(p.topK(), 2);
        b.expertHidden = 6;
        b.sharedExpertHidden = p.sharedExpertHidden() > 0 ? 5 : 0;
        return b.build();
    }

    @Test
    void ropeGqaUntied() {
        check(dense(4, 2, 0, QkNorm.NONE, false), Balance.NONE, 42);
    }

    @Test
    void qwen3QkNormWithWeightTied() {
        check(dense(2, 2, 0, QkNorm.RMS_WEIGHT, true), Balance.NONE, 42);
    }

    @Test
    void llama4WeightlessQkNormWithNopeLayerAndOneKvHead() {
        // layer 1 is NoPE: neither RoPE nor QK norm there
        check(dense(4, 1, 2, QkNorm.RMS, false), Balance.NONE, 42);
    }

    @Test
    void qwen3QkNormOnNopeLayerStillApplies() {
        check(dense(4, 2, 2, QkNorm.RMS_WEIGHT, false), Balance.NONE, 42);
    }

    @Test
    void tinyPresetSoftmaxRouterOnOutputWithAuxAndZLoss() {
        check(shrunk("tiny"), AUX, 1);
    }

    @Test
    void mixtralPresetWithAuxAndZLoss() {
        check(shrunk("mixtral"), AUX, 2);
    }

    @Test
    void qwen3moePresetWithAuxFreeBias() {
        check(shrunk("qwen3moe"), new Balance(Balance.Mode.AUX_FREE, 0, 0.01, 0.001), 3);
    }

    @Test
    void llama4PresetSigmoidRouterOnInputSharedExpertDenseAndNopeLayers() {
        // layer 0: dense, RoPE and QK norm; layer 1: MoE, NoPE and so no QK norm
        check(shrunk("llama4"), AUX, 4);
    }

    @Test
    void llama4ChunkedRopeLayerAndTemperatureTunedNopeLayer() {
        // SEQ 5 with chunks of 2: queries see 1 or 2 keys on layer 0; floor 2 scales the queries of layer 1 from position 1 on
        ModelConfig.Builder b = dense(4, 2, 2, QkNorm.RMS, false).toBuilder();
        b.attentionChunk = 2;
        b.temperatureFloor = 2;
        b.temperatureScale = 0.8;
        check(b.build(), Balance.NONE, 5);
    }

    private static void check(ModelConfig c, Balance balance, long seed) {
        Transformer model = new Transformer(c, balance, BATCH, SEQ);
        SplittableRandom random = new SplittableRandom(seed);
        float[] params = model.params();
        for (ParameterLayout.Entry e : model.layout().entries()) {
            for (int i = e.offset(); i < e.offset() + e.size(); i++)
                params[i] = (float) (e.decay() ? 0.4 * random.nextGaussian() : 1 + 0.3 * random.nextGaussian());
        }
        float[][] bias = model.routerBias();
        if (balance.mode() == Balance.Mode.AUX_FREE)
            for (float[] b : bias) for (int e = 0; e < b.length; e++) b[e] = (float) (0.1 * random.nextGaussian());
        int[] tokens = new int[BATCH * SEQ], targets = new int[BATCH * SEQ];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = random.nextInt(c.vocabSize());
            targets[i] = random.nextInt(c.vocabSize());
        }
        Loss loss = model.forward(tokens, targets, BATCH, SEQ);
        model.zeroGrads();
        model.backward();

        ReferenceTransformer ref = new ReferenceTransformer(c, balance);
        double[] p = new double[params.length];
        for (int i = 0; i < p.length; i++) p[i] = params[i];
        ReferenceTransformer.Result expected = ref.run(p, tokens, targets, BATCH, SEQ, bias);
        assertThat(expected.minMargin()).as("routing margin (finite differences must not flip routes)").isGreaterThan(1e-3);
        assertThat(loss.ce()).isCloseTo(expected.ce(), within(1e-5 * expected.ce()));
        assertThat(loss.aux()).isCloseTo(expected.aux(), within(1e-5));
        assertThat(loss.z()).isCloseTo(expected.z(), within(1e-5));
        assertThat(loss.total()).isCloseTo(expected.total(), within(1e-5 * expected.total()));
        assertThat(model.routerStats()).hasSize(bias.length);
        for (int i = 0; i < BATCH * SEQ; i++)
            for (int v = 0; v < c.vocabSize(); v++)
                assertThat((double) model.logits()[i * c.vocabSize() + v]).isCloseTo(expected.logits()[i][v], within(1e-4));

        // finite differences on every entry of each tensor, or on 48 spread over it when it is larger
        double h = 1e-4;
        for (ParameterLayout.Entry e : model.layout().entries()) {
            double errSq = 0, normSq = 0;
            int stride = 1 + (e.size() - 1) / 48;
            for (int i = e.offset() + random.nextInt(stride); i < e.offset() + e.size(); i += stride) {
                double saved = p[i];
                p[i] = saved + h;
                double up = ref.run(p, tokens, targets, BATCH, SEQ, bias).total();
                p[i] = saved - h;
                double down = ref.run(p, tokens, targets, BATCH, SEQ, bias).total();
                p[i] = saved;
                double fd = (up - down) / (2 * h);
                double diff = model.grads()[i] - fd;
                errSq += diff * diff;
                normSq += fd * fd;
            }
            double relative = Math.sqrt(errSq / normSq);
            assertThat(normSq).as(e.name() + " gradient is not trivially zero").isGreaterThan(1e-12);
            assertThat(relative).as(e.name() + " relative gradient error").isLessThan(1e-4);
        }
    }
}
