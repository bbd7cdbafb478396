package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;

/**
 * An independent double-precision forward of the whole transformer, written per position and per
 * head in the most direct way, for finite-difference gradient checks; MoE layers use the tests'
 * {@link MoeReference}. Reads parameters by name from the same {@link ParameterLayout}.
 */
final class ReferenceTransformer {
    private final ModelConfig c;
    private final Balance balance;
    private final ParameterLayout layout;

    /**
     * One forward: the logits, the mean cross-entropy, the summed aux and z losses of the MoE layers,
     * the total {@code ce + auxAlpha·aux + zLoss·z}, and the smallest routing margin over MoE layers
     * (infinite without MoE): finite-difference steps far below it leave the routing unchanged.
     */
    record Result(double[][] logits, double ce, double aux, double z, double total, double minMargin) {}

    ReferenceTransformer(ModelConfig c, Balance balance) {
        this.c = c;
        this.balance = balance;
        this.layout = new ParameterLayout(c);
    }

    /** {@code bias}: the selection bias of each MoE layer, in layer order (used in aux-free mode). */
    Result run(double[] p, int[] tokens, int[] targets, int batch, int seq, float[][] bias) {
        int d = c.dim(), n = batch * seq;
        double[][] x = new double[n][d];
        int emb = off("tok_embeddings.weight");
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) x[i][j] = p[emb + tokens[i] * d + j];
        double aux = 0, z = 0, minMargin = Double.POSITIVE_INFINITY;
        int moe = 0;
        for (int l = 0; l < c.layers(); l++) {
            String pre = "layers." + l + ".";
            double[][] a = attention(p, l, norm(p, x, off(pre + "attention_norm.weight")), batch, seq);
            for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) x[i][j] += a[i][j];
            double[][] h = norm(p, x, off(pre + "ffn_norm.weight"));
            double[][] y;
            if (c.isMoeLayer(l)) {
                double[] flat = new double[n * d];
                for (int i = 0; i < n; i++) System.arraycopy(h[i], 0, flat, i * d, d);
                double[] b = new double[c.experts()];
                for (int e = 0; e < b.length; e++) b[e] = bias[moe][e];
                moe++;
                MoeReference.Result r = MoeReference.run(c, balance, layout, l, p, flat, n, new double[n * d], b);
                aux += r.aux();
                z += r.z();
                minMargin = Math.min(minMargin, r.minMargin());
                y = new double[n][d];
                for (int i = 0; i < n; i++) System.arraycopy(r.y(), i * d, y[i], 0, d);
            } else {
                y = denseFfn(p, pre, h);
            }
            for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) x[i][j] += y[i][j];
        }
        double[][] h = norm(p, x, off("norm.weight"));
        double[][] logits = linear(p, off(c.tiedEmbeddings() ? "tok_embeddings.weight" : "output.weight"), h, c.vocabSize());
        double ce = 0;
        for (int i = 0; i < n; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (double v : logits[i]) max = Math.max(max, v);
            double sum = 0;
            for (double v : logits[i]) sum += Math.exp(v - max);
            ce += max + Math.log(sum) - logits[i][targets[i]];
        }
        ce /= n;
        double total = ce + balance.effectiveAuxAlpha() * aux + balance.zLoss() * z;
        return new Result(logits, ce, aux, z, total, minMargin);
    }

    /** SwiGLU: (silu(h·W1ᵀ) ⊙ h·W3ᵀ)·W2ᵀ. */
    private double[][] denseFfn(double[] p, String pre, double[][] h) {
        int n = h.length, f = c.ffnHidden();
        double[][] gate = linear(p, off(pre + "feed_forward.w1.weight"), h, f);
        double[][] up = linear(p, off(pre + "feed_forward.w3.weight"), h, f);
        double[][] act = new double[n][f];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < f; k++) act[i][k] = gate[i][k] / (1 + Math.exp(-gate[i][k])) * up[i][k];
        return linear(p, off(pre + "feed_forward.w2.weight"), act, c.dim());
    }

    private double[][] attention(double[] p, int l, double[][] x, int batch, int seq) {
        String pre = "layers." + l + ".attention.";
        int hd = c.headDim(), heads = c.heads(), kvHeads = c.kvHeads();
        double[][] q = linear(p, off(pre + "wq.weight"), x, heads * hd);
        double[][] k = linear(p, off(pre + "wk.weight"), x, kvHeads * hd);
        double[][] v = linear(p, off(pre + "wv.weight"), x, kvHeads * hd);
        boolean qkNorm = c.usesQkNorm(l), rope = c.usesRope(l);
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seq; t++) {
                int i = b * seq + t;
                for (int h = 0; h < heads; h++) transformHead(p, pre + "q_norm.weight", q[i], h * hd, t, qkNorm, rope);
                for (int h = 0; h < kvHeads; h++) transformHead(p, pre + "k_norm.weight", k[i], h * hd, t, qkNorm, rope);
            }
        }
        double[][] y = new double[batch * seq][heads * hd];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int kv = h / (heads / kvHeads);
                for (int t = 0; t < seq; t++) {
                    // Hugging Face Llama 4: NoPE layers scale the query by log1p(floor((t + 1) / floor_scale))·attn_scale + 1;
                    // RoPE layers see only the keys u with u // chunk == t // chunk.
                    double temperature = !rope && c.temperatureFloor() > 0
                            ? Math.log1p(Math.floor((t + 1.0) / c.temperatureFloor())) * c.temperatureScale() + 1 : 1;
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u <= t; u++) {
                        if (!visible(rope, t, u)) continue;
                        double dot = 0;
                        for (int j = 0; j < hd; j++) dot += temperature * q[b * seq + t][h * hd + j] * k[b * seq + u][kv * hd + j];
                        s[u] = dot / Math.sqrt(hd);
                        max = Math.max(max, s[u]);
                    }
                    double sum = 0;
                    for (int u = 0; u <= t; u++) if (visible(rope, t, u)) sum += s[u] = Math.exp(s[u] - max);
                    for (int u = 0; u <= t; u++)
                        if (visible(rope, t, u))
                            for (int j = 0; j < hd; j++) y[b * seq + t][h * hd + j] += s[u] / sum * v[b * seq + u][kv * hd + j];
                }
            }
        }
        return linear(p, off(pre + "wo.weight"), y, c.dim());
    }

    /** Whether the query at {@code t} sees the key at {@code u ≤ t}: always, but on a chunked RoPE layer only within its chunk. */
    private boolean visible(boolean rope, int t, int u) {
        return !rope || c.attentionChunk() == 0 || u / c.attentionChunk() == t / c.attentionChunk();
    }

    /** QK norm and RoPE on one head, in the order each family uses. */
    private void transformHead(double[] p, String normWeight, double[] row, int o, int t, boolean qkNorm, boolean rope) {
        int hd = c.headDim();
        if (qkNorm && c.qkNorm() == ModelConfig.QkNorm.RMS_WEIGHT) rmsInPlace(row, o, hd, p, off(normWeight));
        if (rope) {
            for (int i = 0; i < hd / 2; i++) {
                double angle = t / Math.pow(c.ropeTheta(), 2.0 * i / hd);
                double a = row[o + i], b = row[o + hd / 2 + i];
                row[o + i] = a * Math.cos(angle) - b * Math.sin(angle);
                row[o + hd / 2 + i] = a * Math.sin(angle) + b * Math.cos(angle);
            }
        }
        if (qkNorm && c.qkNorm() == ModelConfig.QkNorm.RMS) rmsInPlace(row, o, hd, null, 0);
    }

    private void rmsInPlace(double[] row, int o, int n, double[] w, int wOff) {
        double ss = 0;
        for (int i = 0; i < n; i++) ss += row[o + i] * row[o + i];
        double r = 1 / Math.sqrt(ss / n + c.normEps());
        for (int i = 0; i < n; i++) row[o + i] *= r * (w == null ? 1 : w[wOff + i]);
    }

    private double[][] norm(double[] p, double[][] x, int w) {
        double[][] out = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i].clone();
            rmsInPlace(out[i], 0, c.dim(), p, w);
        }
        return out;
    }

    /** y = x·Wᵀ with W [out, in] at offset w. */
    private static double[][] linear(double[] p, int w, double[][] x, int out) {
        int in = x[0].length;
        double[][] y = new double[x.length][out];
        for (int i = 0; i < x.length; i++)
            for (int o = 0; o < out; o++) {
                double s = 0;
                for (int j = 0; j < in; j++) s += x[i][j] * p[w + o * in + j];
                y[i][o] = s;
            }
        return y;
    }

    private int off(String name) {
        return layout.get(name).offset();
    }
}
