package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * An independent double-precision MoE block for the tests: token by token, expert by expert,
 * written straight from the definitions (no dispatch, no shared code with {@link MoeFfn}).
 * Its scalar "loss" is {@code Σ dOut·y + auxAlpha·aux + zLoss·z}, whose gradient is what
 * {@link MoeFfn#backward} must produce when given {@code dOut}.
 */
final class MoeReference {
    private MoeReference() {}

    /**
     * @param minMargin the smallest gap, over tokens, between the k-th and (k+1)-th selection key:
     *                  a finite-difference step far below it cannot change the routing
     */
    record Result(double[] y, double aux, double z, double loss, double minMargin, long[] counts) {}

    static Result run(ModelConfig c, Balance balance, ParameterLayout layout, int layer,
                      double[] p, double[] x, int n, double[] dOut, double[] bias) {
        int d = c.dim(), experts = c.experts(), k = c.topK(), he = c.expertHidden(), hs = c.sharedExpertHidden();
        String pre = "layers." + layer + ".feed_forward.";
        int wr = layout.get(pre + "router.weight").offset();
        int w1 = layout.get(pre + "experts.w1").offset(), w3 = layout.get(pre + "experts.w3").offset();
        int w2 = layout.get(pre + "experts.w2").offset();
        boolean sigmoid = c.router() == ModelConfig.Router.SIGMOID;
        boolean onInput = c.routerWeight() == ModelConfig.RouterWeight.INPUT;
        boolean useBias = balance.mode() == Balance.Mode.AUX_FREE;

        double[] y = new double[n * d];
        long[] counts = new long[experts];
        double[] sumQ = new double[experts];
        double zSum = 0, minMargin = Double.POSITIVE_INFINITY;
        for (int t = 0; t < n; t++) {
            double[] xt = Arrays.copyOfRange(x, t * d, t * d + d);
            double[] logits = new double[experts];
            for (int e = 0; e < experts; e++)
                for (int i = 0; i < d; i++) logits[e] += p[wr + e * d + i] * xt[i];
            double max = Arrays.stream(logits).max().orElseThrow();
            double lse = max + Math.log(Arrays.stream(logits).map(v -> Math.exp(v - max)).sum());
            zSum += lse * lse;

            double[] score = new double[experts];
            for (int e = 0; e < experts; e++)
                score[e] = sigmoid ? 1 / (1 + Math.exp(-logits[e])) : Math.exp(logits[e] - lse);
            double scoreTotal = Arrays.stream(score).sum();
            for (int e = 0; e < experts; e++) sumQ[e] += sigmoid ? score[e] / scoreTotal : score[e];

            double[] key = new double[experts];
            for (int e = 0; e < experts; e++) key[e] = score[e] + (useBias ? bias[e] : 0);
            Integer[] order = IntStream.range(0, experts).boxed()
                    .sorted(Comparator.<Integer>comparingDouble(e -> -key[e]).thenComparingInt(e -> e))
                    .toArray(Integer[]::new);
            if (k < experts) minMargin = Math.min(minMargin, key[order[k - 1]] - key[order[k]]);
            double selectedTotal = 0;
            for (int j = 0; j < k; j++) selectedTotal += score[order[j]];

            for (int j = 0; j < k; j++) {
                int e = order[j];
                counts[e]++;
                double w = c.renormTopK() ? score[e] / selectedTotal : score[e];
                double[] in = xt.clone();
                if (onInput) for (int i = 0; i < d; i++) in[i] *= w;
                double[] h = swiglu(p, w1 + e * he * d, w3 + e * he * d, w2 + e * he * d, in, d, he);
                for (int i = 0; i < d; i++) y[t * d + i] += onInput ? h[i] : w * h[i];
            }
            if (hs > 0) {
                double[] h = swiglu(p, layout.get(pre + "shared_expert.w1.weight").offset(),
                        layout.get(pre + "shared_expert.w3.weight").offset(),
                        layout.get(pre + "shared_expert.w2.weight").offset(), xt, d, hs);
                for (int i = 0; i < d; i++) y[t * d + i] += h[i];
            }
        }
        double aux = 0;
        for (int e = 0; e < experts; e++) aux += (double) counts[e] / (n * k) * (sumQ[e] / n);
        aux *= experts;
        double z = zSum / n;
        double loss = balance.effectiveAuxAlpha() * aux + balance.zLoss() * z;
        for (int i = 0; i < n * d; i++) loss += dOut[i] * y[i];
        return new Result(y, aux, z, loss, minMargin, counts);
    }

    /** (silu(W1·x) ⊙ W3·x) · W2ᵀ with W1, W3 [h, d] and W2 [d, h]. */
    private static double[] swiglu(double[] p, int w1, int w3, int w2, double[] x, int d, int h) {
        double[] act = new double[h];
        for (int j = 0; j < h; j++) {
            double g = 0, u = 0;
            for (int i = 0; i < d; i++) {
                g += p[w1 + j * d + i] * x[i];
                u += p[w3 + j * d + i] * x[i];
            }
            act[j] = g / (1 + Math.exp(-g)) * u;
        }
        double[] out = new double[d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < h; j++) out[i] += p[w2 + i * h + j] * act[j];
        return out;
    }
}
