package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;

/**
 * An independent double-precision forward of the dense transformer, written per position and per
 * head in the most direct way, for finite-difference gradient checks. Reads parameters by name
 * from the same {@link ParameterLayout}.
 */
final class ReferenceTransformer {
    private final ModelConfig c;
    private final ParameterLayout layout;

    ReferenceTransformer(ModelConfig c) {
        this.c = c;
        this.layout = new ParameterLayout(c);
    }

    /** Mean cross-entropy over all positions. */
    double loss(double[] p, int[] tokens, int[] targets, int batch, int seq) {
        double[][] logits = logits(p, tokens, batch, seq);
        double total = 0;
        for (int i = 0; i < batch * seq; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (double v : logits[i]) max = Math.max(max, v);
            double sum = 0;
            for (double v : logits[i]) sum += Math.exp(v - max);
            total += max + Math.log(sum) - logits[i][targets[i]];
        }
        return total / (batch * seq);
    }

    double[][] logits(double[] p, int[] tokens, int batch, int seq) {
        int d = c.dim(), n = batch * seq;
        double[][] x = new double[n][d];
        int emb = off("tok_embeddings.weight");
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) x[i][j] = p[emb + tokens[i] * d + j];
        for (int l = 0; l < c.layers(); l++) {
            String pre = "layers." + l + ".";
            double[][] a = attention(p, l, norm(p, x, off(pre + "attention_norm.weight")), batch, seq);
            for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) x[i][j] += a[i][j];
            double[][] h = norm(p, x, off(pre + "ffn_norm.weight"));
            if (c.isMoeLayer(l)) throw new UnsupportedOperationException("reference covers dense layers only");
            int f = c.ffnHidden();
            double[][] gate = linear(p, off(pre + "feed_forward.w1.weight"), h, f);
            double[][] up = linear(p, off(pre + "feed_forward.w3.weight"), h, f);
            double[][] act = new double[n][f];
            for (int i = 0; i < n; i++)
                for (int k = 0; k < f; k++) act[i][k] = gate[i][k] / (1 + Math.exp(-gate[i][k])) * up[i][k];
            double[][] down = linear(p, off(pre + "feed_forward.w2.weight"), act, d);
            for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) x[i][j] += down[i][j];
        }
        double[][] h = norm(p, x, off("norm.weight"));
        return linear(p, off(c.tiedEmbeddings() ? "tok_embeddings.weight" : "output.weight"), h, c.vocabSize());
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
                    double[] s = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int u = 0; u <= t; u++) {
                        double dot = 0;
                        for (int j = 0; j < hd; j++) dot += q[b * seq + t][h * hd + j] * k[b * seq + u][kv * hd + j];
                        s[u] = dot / Math.sqrt(hd);
                        max = Math.max(max, s[u]);
                    }
                    double sum = 0;
                    for (int u = 0; u <= t; u++) sum += s[u] = Math.exp(s[u] - max);
                    for (int u = 0; u <= t; u++)
                        for (int j = 0; j < hd; j++) y[b * seq + t][h * hd + j] += s[u] / sum * v[b * seq + u][kv * hd + j];
                }
            }
        }
        return linear(p, off(pre + "wo.weight"), y, c.dim());
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
