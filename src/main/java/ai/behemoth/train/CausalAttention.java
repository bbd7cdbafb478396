package ai.behemoth.train;

import ai.behemoth.tensor.Parallel;

/**
 * Causal softmax attention with grouped-query heads, {@code out = softmax(q·kᵀ/√hd + mask)·v},
 * over batches {@code [B, T]} whose queries, keys and values share one fused row per token:
 * {@code qkv[b·T + t]} holds {@code H} query heads, then {@code KV} key heads, then {@code KV}
 * value heads, each {@code hd} wide. Query head {@code h} reads key/value head {@code h / (H/KV)}.
 *
 * <p>Forward keeps the probabilities {@code [B, H, T, T]} (only {@code t2 ≤ t} is meaningful).
 * Inner loops run along the sequence or the head dimension as {@code a[i] += s·b[i]}, with keys
 * and values transposed to {@code [hd, T]} per head first, so they vectorise without horizontal
 * sums. Every task writes only its own outputs, so results are the same for any thread count.
 */
final class CausalAttention {
    private final int heads, kvHeads, headDim, qkvStride;
    private final float scale;
    private final float[] transposed; // per task: one key or value head as [hd, T]
    private final float[] rowScratch; // per task: one row of dP/dS, [T]
    private final int maxSeq;

    CausalAttention(int heads, int kvHeads, int headDim, int maxBatch, int maxSeq) {
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.qkvStride = (heads + 2 * kvHeads) * headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.maxSeq = maxSeq;
        this.transposed = new float[maxBatch * heads * headDim * maxSeq];
        this.rowScratch = new float[maxBatch * kvHeads * maxSeq];
    }

    /** Probability buffer size for the largest batch. */
    static int probsSize(int heads, int maxBatch, int maxSeq) {
        return maxBatch * heads * maxSeq * maxSeq;
    }

    /** {@code out[B·T, H·hd]} from {@code qkv[B·T, (H+2KV)·hd]}; fills {@code probs}. */
    void forward(float[] qkv, float[] probs, float[] out, int batch, int seq) {
        int hd = headDim, group = heads / kvHeads, qDim = heads * hd, S = qkvStride, T = seq;
        Parallel.forRange(batch * heads, task -> {
            int b = task / heads, h = task % heads, kvh = h / group;
            int kOff = qDim + kvh * hd, vOff = qDim + kvHeads * hd + kvh * hd;
            int kt = task * hd * maxSeq;
            transpose(qkv, b * T * S + kOff, S, transposed, kt, T, hd);
            for (int t = 0; t < T; t++) {
                int p = ((b * heads + h) * T + t) * T;
                int q = (b * T + t) * S + h * hd;
                for (int t2 = 0; t2 <= t; t2++) probs[p + t2] = 0;
                for (int d = 0; d < hd; d++) {
                    float qd = qkv[q + d] * scale;
                    int k = kt + d * T;
                    for (int t2 = 0; t2 <= t; t2++) probs[p + t2] += qd * transposed[k + t2];
                }
                float max = Float.NEGATIVE_INFINITY;
                for (int t2 = 0; t2 <= t; t2++) max = Math.max(max, probs[p + t2]);
                float sum = 0;
                for (int t2 = 0; t2 <= t; t2++) {
                    float e = (float) Math.exp(probs[p + t2] - max);
                    probs[p + t2] = e;
                    sum += e;
                }
                float inv = 1f / sum;
                int o = (b * T + t) * qDim + h * hd;
                for (int d = 0; d < hd; d++) out[o + d] = 0;
                for (int t2 = 0; t2 <= t; t2++) {
                    float pv = probs[p + t2] * inv;
                    probs[p + t2] = pv;
                    int v = (b * T + t2) * S + vOff;
                    for (int d = 0; d < hd; d++) out[o + d] += pv * qkv[v + d];
                }
            }
        });
    }

    /**
     * Given {@code dOut[B·T, H·hd]}, writes the query, key and value gradients into
     * {@code dqkv[B·T, (H+2KV)·hd]} (same layout as {@code qkv}). Parallel over (batch, kv head):
     * the heads that share a key/value head add into it in a fixed order.
     */
    void backward(float[] dOut, float[] qkv, float[] probs, float[] dqkv, int batch, int seq) {
        int hd = headDim, group = heads / kvHeads, qDim = heads * hd, S = qkvStride, T = seq;
        Parallel.forRange(batch * kvHeads, task -> {
            int b = task / kvHeads, kvh = task % kvHeads;
            int kOff = qDim + kvh * hd, vOff = qDim + kvHeads * hd + kvh * hd;
            int vt = task * hd * maxSeq, ds = task * maxSeq;
            transpose(qkv, b * T * S + vOff, S, transposed, vt, T, hd);
            for (int t = 0; t < T; t++) {
                int row = (b * T + t) * S;
                for (int d = 0; d < hd; d++) {
                    dqkv[row + kOff + d] = 0;
                    dqkv[row + vOff + d] = 0;
                }
            }
            for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                for (int t = 0; t < T; t++) {
                    int p = ((b * heads + h) * T + t) * T;
                    int go = (b * T + t) * qDim + h * hd;
                    int q = (b * T + t) * S + h * hd;
                    // dP[t2] = dOut_t · v_t2
                    for (int t2 = 0; t2 <= t; t2++) rowScratch[ds + t2] = 0;
                    for (int d = 0; d < hd; d++) {
                        float g = dOut[go + d];
                        int v = vt + d * T;
                        for (int t2 = 0; t2 <= t; t2++) rowScratch[ds + t2] += g * transposed[v + t2];
                    }
                    float dot = 0;
                    for (int t2 = 0; t2 <= t; t2++) dot += probs[p + t2] * rowScratch[ds + t2];
                    for (int d = 0; d < hd; d++) dqkv[q + d] = 0;
                    for (int t2 = 0; t2 <= t; t2++) {
                        float pv = probs[p + t2];
                        float dScore = pv * (rowScratch[ds + t2] - dot) * scale;
                        int r2 = (b * T + t2) * S;
                        for (int d = 0; d < hd; d++) {
                            dqkv[q + d] += dScore * qkv[r2 + kOff + d];
                            dqkv[r2 + kOff + d] += dScore * qkv[q + d];
                            dqkv[r2 + vOff + d] += pv * dOut[go + d];
                        }
                    }
                }
            }
        });
    }

    /** {@code dst[d·T + t] = src[srcOff + t·stride + d]} for one head of {@code hd} over {@code T} rows. */
    private static void transpose(float[] src, int srcOff, int stride, float[] dst, int dstOff, int T, int hd) {
        for (int t = 0; t < T; t++) {
            for (int d = 0; d < hd; d++) dst[dstOff + d * T + t] = src[srcOff + t * stride + d];
        }
    }
}
