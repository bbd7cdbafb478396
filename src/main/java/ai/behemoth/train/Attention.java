package ai.behemoth.train;

import ai.behemoth.model.AttentionScope;
import ai.behemoth.model.ModelConfig;
import ai.behemoth.tensor.MatMul;

/**
 * One layer's attention block: fused q/k/v projection (wq, wk, wv are adjacent in the parameter
 * buffer, so they form one {@code [(H+2KV)·hd, D]} matrix), QK norm, RoPE, causal grouped-query
 * attention and the output projection wo.
 *
 * <p>QK norm follows the two families: Qwen3's RMS norm with a learned weight per head dimension
 * before RoPE, on every layer; Llama 4's weightless RMS norm after RoPE, on RoPE layers only.
 * Positions are {@code t} within each sequence of the batch. Llama 4's long-context rules
 * ({@link AttentionScope}): the queries of a NoPE layer are scaled by the attention temperature of
 * their position after the norms, and the kernel attends within chunks on RoPE layers.
 */
final class Attention {
    private final float[] params, grads;
    private final int dim, heads, kvHeads, headDim, qkvStride, wqkv, wo, qNorm, kNorm;
    private final float eps;
    private final Rope rope;                            // null on NoPE layers
    private final boolean normBeforeRope, normAfterRope;
    private final FlashAttention core;
    private final AttentionScope scope;

    private final float[] qkv;      // [N, (H+2KV)·hd] the projection
    private final float[] att;      // same layout: what attention reads (q, k normalised and rotated)
    private final float[] normIn;   // input of the after-RoPE QK norm (Llama 4 layers only)
    private final float[] qkRstd;   // [N, H+KV] reciprocal RMS of each q and k head
    private final float[] lse;      // [B, H, T]: logsumexp of each attention row, see FlashAttention
    private final float[] y;        // [N, H·hd] attention output before wo
    private final float[] dy, dqkv; // gradients of y and qkv
    private float[] input;

    /** {@code rope} and {@code core} are shared by all layers; {@code core} must be sized for the same sequence length. */
    Attention(ModelConfig c, ParameterLayout layout, int layer, float[] params, float[] grads, Rope rope,
              FlashAttention core, int maxBatch, int maxSeq) {
        this.params = params;
        this.grads = grads;
        this.dim = c.dim();
        this.heads = c.heads();
        this.kvHeads = c.kvHeads();
        this.headDim = c.headDim();
        this.qkvStride = c.qDim() + 2 * c.kvDim();
        this.eps = (float) c.normEps();
        String p = "layers." + layer + ".attention.";
        this.wqkv = layout.get(p + "wq.weight").offset();
        if (layout.get(p + "wk.weight").offset() != wqkv + c.qDim() * dim
                || layout.get(p + "wv.weight").offset() != wqkv + (c.qDim() + c.kvDim()) * dim)
            throw new IllegalStateException("wq, wk, wv must be adjacent in the parameter layout");
        this.wo = layout.get(p + "wo.weight").offset();
        boolean qk = c.usesQkNorm(layer);
        this.normBeforeRope = qk && c.qkNorm() == ModelConfig.QkNorm.RMS_WEIGHT;
        this.normAfterRope = qk && c.qkNorm() == ModelConfig.QkNorm.RMS;
        this.qNorm = normBeforeRope ? layout.get(p + "q_norm.weight").offset() : -1;
        this.kNorm = normBeforeRope ? layout.get(p + "k_norm.weight").offset() : -1;
        this.rope = c.usesRope(layer) ? rope : null;
        this.core = core;
        this.scope = AttentionScope.of(c, layer);
        int n = maxBatch * maxSeq;
        this.qkv = new float[n * qkvStride];
        this.att = new float[n * qkvStride];
        this.normIn = normAfterRope ? new float[n * qkvStride] : null;
        this.qkRstd = new float[n * (heads + kvHeads)];
        this.lse = new float[core.lseSize(maxBatch)];
        this.y = new float[n * c.qDim()];
        this.dy = new float[n * c.qDim()];
        this.dqkv = new float[n * qkvStride];
    }

    /** {@code out[N, D] = attention(x[N, D])} for {@code batch} sequences of {@code seq} tokens; keeps x for backward. */
    void forward(float[] x, float[] out, int batch, int seq) {
        int n = batch * seq, S = qkvStride, hd = headDim, qkHeads = heads + kvHeads;
        input = x;
        MatMul.abT(qkv, 0, x, 0, params, wqkv, n, dim, S, false);
        Rows.forEach(n, r -> {
            int t = r % seq, row = r * S;
            System.arraycopy(qkv, row, att, row, S);
            for (int j = 0; j < qkHeads; j++) {
                int off = row + j * hd;
                if (normBeforeRope)
                    qkRstd[r * qkHeads + j] = RmsNorm.forwardRow(att, off, qkv, off, params, j < heads ? qNorm : kNorm, hd, eps);
                if (rope != null) rope.forward(att, off, t);
                if (normAfterRope) {
                    System.arraycopy(att, off, normIn, off, hd);
                    qkRstd[r * qkHeads + j] = RmsNorm.forwardRow(att, off, normIn, off, null, 0, hd, eps);
                }
            }
            if (scope.scalesQueries()) scaleQueries(att, row, scope.queryScale(t));
        });
        core.forward(att, y, lse, batch, seq, scope);
        MatMul.abT(out, 0, y, 0, params, wo, n, heads * hd, dim, false);
    }

    /** Given {@code dOut[N, D]}, accumulates parameter gradients and writes {@code dx[N, D]}. */
    void backward(float[] dOut, float[] dx, int batch, int seq) {
        int n = batch * seq, S = qkvStride, hd = headDim, qkHeads = heads + kvHeads, qDim = heads * hd;
        MatMul.aTb(grads, wo, dOut, 0, y, 0, dim, n, qDim, true);
        MatMul.ab(dy, 0, dOut, 0, params, wo, n, dim, qDim, false);
        core.backward(dy, att, y, lse, dqkv, batch, seq, scope);
        Rows.forEach(n, r -> {
            int t = r % seq, row = r * S;
            if (scope.scalesQueries()) scaleQueries(dqkv, row, scope.queryScale(t));
            for (int j = 0; j < qkHeads; j++) {
                int off = row + j * hd;
                if (normAfterRope)
                    RmsNorm.backwardRow(dqkv, off, dqkv, off, normIn, off, null, 0, qkRstd[r * qkHeads + j], hd, false);
                if (rope != null) rope.backward(dqkv, off, t);
            }
        });
        if (normBeforeRope) {
            // dqkv now holds the gradient of the norm outputs: take the weight gradient (in row order), then the input's.
            for (int r = 0; r < n; r++) {
                for (int j = 0; j < qkHeads; j++) {
                    int off = r * S + j * hd;
                    RmsNorm.weightGradRow(grads, j < heads ? qNorm : kNorm, dqkv, off, qkv, off, qkRstd[r * qkHeads + j], hd);
                }
            }
            Rows.forEach(n, r -> {
                for (int j = 0; j < qkHeads; j++) {
                    int off = r * S + j * hd;
                    RmsNorm.backwardRow(dqkv, off, dqkv, off, qkv, off, params, j < heads ? qNorm : kNorm,
                            qkRstd[r * qkHeads + j], hd, false);
                }
            });
        }
        MatMul.aTb(grads, wqkv, dqkv, 0, input, 0, S, n, dim, true);
        MatMul.ab(dx, 0, dqkv, 0, params, wqkv, n, S, dim, false);
    }

    /** Multiplies the query heads of the row at {@code row} by {@code factor}: the temperature forward, and its gradient. */
    private void scaleQueries(float[] buf, int row, float factor) {
        for (int i = row, end = row + heads * headDim; i < end; i++) buf[i] *= factor;
    }
}
