package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.Presets;
import ai.behemoth.tensor.Parallel;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

public class AdamWTest {
    /** A small MoE layout: matrices, stacked experts and norm weights. */
    static ParameterLayout layout() {
        ModelConfig.Builder b = Presets.get("tiny", 11).toBuilder();
        b.dim = 8; b.heads = 2; b.kvHeads = 1; b.headDim = 4; b.layers = 2; b.experts = 3; b.topK = 2;
        b.expertHidden = 6; b.ffnHidden = 12; b.moeEvery = 2; b.context = 8;
        return new ParameterLayout(b.build());
    }

    public static float[] random(int n, long seed, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        return a;
    }

    /** Double-precision AdamW as the paper and torch.optim.AdamW write it, one element at a time. */
    static final class Reference {
        final double b1, b2, wd;
        final double[] m, v;

        Reference(int n, double b1, double b2, double wd) {
            this.b1 = b1; this.b2 = b2; this.wd = wd;
            m = new double[n];
            v = new double[n];
        }

        void step(double[] p, double[] g, boolean[] decay, int t, double lr) {
            for (int i = 0; i < p.length; i++) {
                if (decay[i]) p[i] -= lr * wd * p[i];
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                double mHat = m[i] / (1 - Math.pow(b1, t));
                double vHat = v[i] / (1 - Math.pow(b2, t));
                p[i] -= lr * mHat / (Math.sqrt(vHat) + 1e-8);
            }
        }
    }

    @Test
    void threeStepsMatchADoublePrecisionReference() {
        ParameterLayout layout = layout();
        int n = layout.size();
        boolean[] decay = new boolean[n];
        for (ParameterLayout.Entry e : layout.entries())
            for (int i = e.offset(); i < e.offset() + e.size(); i++) decay[i] = e.decay();
        float[] params = random(n, 1, 0.5);
        double[] ref = new double[n];
        for (int i = 0; i < n; i++) ref[i] = params[i];
        AdamW adam = new AdamW(layout, 0.9, 0.95, 0.1);
        Reference r = new Reference(n, 0.9, 0.95, 0.1);
        double[] lrs = {1e-2, 3e-2, 2e-2};
        for (int t = 1; t <= 3; t++) {
            float[] grads = random(n, 100 + t, 0.01 * t);
            double[] g = new double[n];
            for (int i = 0; i < n; i++) g[i] = grads[i];
            adam.step(params, grads, t, lrs[t - 1]);
            r.step(ref, g, decay, t, lrs[t - 1]);
        }
        for (int i = 0; i < n; i++) assertThat((double) params[i]).as("param %d", i).isCloseTo(ref[i], within(2e-6));
        for (int i = 0; i < n; i++) assertThat((double) adam.m()[i]).isCloseTo(r.m[i], within(1e-9));
    }

    @Test
    void theResultDoesNotDependOnTheThreadCount() {
        ParameterLayout layout = layout();
        int before = Parallel.threads();
        float[][] results = new float[2][];
        double[] norms = new double[2];
        try {
            for (int threads = 1; threads <= 2; threads++) {
                Parallel.setThreads(threads);
                float[] params = random(layout.size(), 1, 0.5), grads = random(layout.size(), 2, 0.3);
                AdamW adam = new AdamW(layout, 0.9, 0.95, 0.1);
                norms[threads - 1] = adam.clip(grads, 1.0);
                adam.step(params, grads, 1, 1e-2);
                adam.step(params, grads, 2, 1e-2);
                results[threads - 1] = params;
            }
        } finally {
            Parallel.setThreads(before);
        }
        assertThat(norms[1]).isEqualTo(norms[0]);
        assertThat(results[1]).isEqualTo(results[0]);
    }

    @Test
    void weightDecayAppliesToMatricesAndEmbeddingsButNotNormWeights() {
        ParameterLayout layout = layout();
        float[] params = new float[layout.size()];
        java.util.Arrays.fill(params, 1f);
        AdamW adam = new AdamW(layout, 0.9, 0.95, 0.5);
        adam.step(params, new float[layout.size()], 1, 0.1); // zero gradient: only the decay moves anything
        assertThat(params[layout.get("tok_embeddings.weight").offset()]).isEqualTo(0.95f);
        assertThat(params[layout.get("layers.1.feed_forward.experts.w2").offset() + 5]).isEqualTo(0.95f);
        assertThat(params[layout.get("layers.0.attention_norm.weight").offset()]).isEqualTo(1f);
        assertThat(params[layout.get("norm.weight").offset() + 3]).isEqualTo(1f);
    }

    @Test
    void clippingScalesTheGlobalNormDownToTheLimitAndReportsTheNormBefore() {
        ParameterLayout layout = layout();
        float[] grads = random(layout.size(), 7, 1.0);
        double expected = 0;
        for (float g : grads) expected += (double) g * g;
        expected = Math.sqrt(expected);
        AdamW adam = new AdamW(layout, 0.9, 0.95, 0.1);
        float[] copy = grads.clone();
        assertThat(adam.clip(grads, 0)).isCloseTo(expected, within(1e-9));
        assertThat(grads).isEqualTo(copy); // 0 means no clipping
        assertThat(adam.clip(grads, 2 * expected)).isCloseTo(expected, within(1e-9));
        assertThat(grads).isEqualTo(copy); // under the limit: untouched
        assertThat(adam.clip(grads, 1.0)).isCloseTo(expected, within(1e-9));
        assertThat(adam.gradNorm(grads)).isCloseTo(1.0, within(1e-5));
        assertThat((double) grads[17]).isCloseTo(copy[17] / expected, within(1e-7));
    }
}
