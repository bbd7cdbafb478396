package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.ModelConfig.QkNorm;
import ai.behemoth.model.ModelConfig.Router;
import ai.behemoth.model.ModelConfig.RouterWeight;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The float32 model's loss, logits and every parameter gradient against an independent
 * double-precision reference and central finite differences on it, at tiny dense shapes.
 */
class TransformerGradientTest {
    private static final int BATCH = 2, SEQ = 5;

    /** vocab 11, dim 8, 2 layers, head_dim 4 (so H·hd differs from dim), FFN 12. */
    private static ModelConfig config(int heads, int kvHeads, int nopeEvery, QkNorm qkNorm, boolean tied) {
        return new ModelConfig(11, 8, 2, heads, kvHeads, 4, 16, 100, 1e-5, 12, 0, 0, 0, 0, 1,
                Router.SOFTMAX, RouterWeight.OUTPUT, true, nopeEvery, qkNorm, tied, 0.02);
    }

    @Test
    void ropeGqaUntied() {
        check(config(4, 2, 0, QkNorm.NONE, false));
    }

    @Test
    void qwen3QkNormWithWeightTied() {
        check(config(2, 2, 0, QkNorm.RMS_WEIGHT, true));
    }

    @Test
    void llama4WeightlessQkNormWithNopeLayerAndOneKvHead() {
        // layer 1 is NoPE: neither RoPE nor QK norm there
        check(config(4, 1, 2, QkNorm.RMS, false));
    }

    @Test
    void qwen3QkNormOnNopeLayerStillApplies() {
        check(config(4, 2, 2, QkNorm.RMS_WEIGHT, false));
    }

    private static void check(ModelConfig c) {
        Transformer model = new Transformer(c, Balance.NONE, BATCH, SEQ);
        SplittableRandom random = new SplittableRandom(42);
        float[] params = model.params();
        for (ParameterLayout.Entry e : model.layout().entries()) {
            for (int i = e.offset(); i < e.offset() + e.size(); i++)
                params[i] = (float) (e.decay() ? 0.4 * random.nextGaussian() : 1 + 0.3 * random.nextGaussian());
        }
        int[] tokens = new int[BATCH * SEQ], targets = new int[BATCH * SEQ];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = random.nextInt(c.vocabSize());
            targets[i] = random.nextInt(c.vocabSize());
        }
        Loss loss = model.forward(tokens, targets, BATCH, SEQ);
        model.zeroGrads();
        model.backward();

        ReferenceTransformer ref = new ReferenceTransformer(c);
        double[] p = new double[params.length];
        for (int i = 0; i < p.length; i++) p[i] = params[i];
        double refLoss = ref.loss(p, tokens, targets, BATCH, SEQ);
        assertThat(loss.ce()).isCloseTo(refLoss, org.assertj.core.data.Offset.offset(1e-5 * refLoss));
        assertThat(loss.total()).isEqualTo(loss.ce());
        double[][] refLogits = ref.logits(p, tokens, BATCH, SEQ);
        for (int i = 0; i < BATCH * SEQ; i++)
            for (int v = 0; v < c.vocabSize(); v++)
                assertThat((double) model.logits()[i * c.vocabSize() + v]).isCloseTo(refLogits[i][v], org.assertj.core.data.Offset.offset(1e-4));

        double h = 1e-4;
        for (ParameterLayout.Entry e : model.layout().entries()) {
            double errSq = 0, normSq = 0;
            for (int i = e.offset(); i < e.offset() + e.size(); i++) {
                double saved = p[i];
                p[i] = saved + h;
                double up = ref.loss(p, tokens, targets, BATCH, SEQ);
                p[i] = saved - h;
                double down = ref.loss(p, tokens, targets, BATCH, SEQ);
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
