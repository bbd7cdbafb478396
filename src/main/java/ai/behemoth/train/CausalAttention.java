package ai.behemoth.train;

import ai.behemoth.model.AttentionScope;
import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Causal softmax attention with grouped-query heads, {@code out = softmax(q·kᵀ/√hd + mask)·v},
 * over batches {@code [B, T]} whose queries, keys and values share one fused row per token:
 * {@code qkv[b·T + t]} holds {@code H} query heads, then {@code KV} key heads, then {@code KV}
 * value heads, each {@code hd} wide. Query head {@code h} reads key/value head {@code h / (H/KV)}.
 *
 * <p>Each of the five products (scores, output, and in backward dP, dQ, dK, dV) is a small
 * matrix product on one head, done by {@link #tile}: a register tile of {@link #R} rows by one
 * vector, skipping the blocks that the causal mask zeroes. Probability rows are {@code Tp} wide
 * (T rounded up to the vector length) and hold exact zeros above the diagonal, so the products
 * may run over whole vectors. Sums run in a fixed order and every task writes only its own
 * outputs: the same bits for any thread count.
 *
 * <p>Each call takes the layer's {@link AttentionScope}: the query at {@code t} attends to the keys
 * {@code scope.firstKey(t) .. t} (all of {@code 0 .. t} without chunks); probabilities outside
 * are exact zeros, so the products may still run over them.
 *
 * <p>One instance holds the work buffers and serves every layer; the probabilities live with the layer.
 */
final class CausalAttention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Rows of a register tile: eight independent FMA chains. */
    private static final int R = 8;

    private final int heads, kvHeads, headDim, qkvStride, maxSeq, paddedSeq;
    private final float scale;
    private final float[] transposed; // per task: one key or value head as [hd, Tp]
    private final float[] dScores;    // per backward task: dP, then dS, [T, Tp]

    CausalAttention(int heads, int kvHeads, int headDim, int maxBatch, int maxSeq) {
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.qkvStride = (heads + 2 * kvHeads) * headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.maxSeq = maxSeq;
        this.paddedSeq = padded(maxSeq);
        if ((long) maxBatch * heads * maxSeq * paddedSeq > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException("attention probabilities for batch " + maxBatch + " × " + heads
                    + " heads × sequence " + maxSeq + "² exceed 2^31 floats: use a smaller batch or sequence");
        this.transposed = new float[maxBatch * heads * headDim * paddedSeq];
        this.dScores = new float[maxBatch * kvHeads * maxSeq * paddedSeq];
    }

    private static int padded(int n) {
        return (n + L - 1) / L * L;
    }

    /** Size of the probability buffer {@code [B, H, T, Tp]} a layer keeps for up to {@code maxBatch} sequences. */
    int probsSize(int maxBatch) {
        return maxBatch * heads * maxSeq * paddedSeq;
    }

    /** {@code out[B·T, H·hd]} from {@code qkv[B·T, (H+2KV)·hd]} over the keys {@code scope} lets each query see; fills {@code probs}. */
    void forward(float[] qkv, float[] probs, float[] out, int batch, int seq, AttentionScope scope) {
        int hd = headDim, group = heads / kvHeads, qDim = heads * hd, S = qkvStride, T = seq, Tp = padded(seq);
        Parallel.forRange(batch * heads, task -> {
            int b = task / heads, h = task % heads, kvh = h / group;
            int rows0 = b * T * S, kOff = qDim + kvh * hd, vOff = qDim + kvHeads * hd + kvh * hd;
            int kT = task * hd * paddedSeq, p0 = task * T * Tp;
            transpose(qkv, rows0 + kOff, S, transposed, kT, T, Tp, hd);
            for (int i0 = 0; i0 < T; i0 += R) { // scores: only the columns the block's rows can see
                int rows = Math.min(R, T - i0);
                tile(probs, p0, Tp, false, qkv, rows0 + h * hd, S, 1, transposed, kT, Tp, i0, rows, padded(i0 + rows), 0, hd);
            }
            for (int t = 0; t < T; t++) softmaxRow(probs, p0 + t * Tp, scope.firstKey(t), t + 1, Tp);
            for (int i0 = 0; i0 < T; i0 += R) { // out = P·v over the columns the block's rows can see
                int rows = Math.min(R, T - i0);
                tile(out, b * T * qDim + h * hd, qDim, false, probs, p0, Tp, 1, qkv, rows0 + vOff, S, i0, rows, hd,
                        scope.firstKey(i0), i0 + rows);
            }
        });
    }

    /**
     * Given {@code dOut[B·T, H·hd]}, writes the query, key and value gradients into
     * {@code dqkv[B·T, (H+2KV)·hd]} (same layout as {@code qkv}). Parallel over (batch, kv head):
     * the heads that share a key/value head add into it in a fixed order.
     */
    void backward(float[] dOut, float[] qkv, float[] probs, float[] dqkv, int batch, int seq, AttentionScope scope) {
        int hd = headDim, group = heads / kvHeads, qDim = heads * hd, S = qkvStride, T = seq, Tp = padded(seq);
        Parallel.forRange(batch * kvHeads, task -> {
            int b = task / kvHeads, kvh = task % kvHeads;
            int rows0 = b * T * S, kOff = qDim + kvh * hd, vOff = qDim + kvHeads * hd + kvh * hd;
            int vT = task * hd * paddedSeq, ds = task * maxSeq * paddedSeq, dOut0 = b * T * qDim;
            transpose(qkv, rows0 + vOff, S, transposed, vT, T, Tp, hd);
            for (int t = 0; t < T; t++) {
                Arrays.fill(dqkv, rows0 + t * S + kOff, rows0 + t * S + kOff + hd, 0f);
                Arrays.fill(dqkv, rows0 + t * S + vOff, rows0 + t * S + vOff + hd, 0f);
            }
            for (int h = kvh * group; h < (kvh + 1) * group; h++) {
                int p0 = (b * heads + h) * T * Tp;
                for (int i0 = 0; i0 < T; i0 += R) { // dP = dOut·vᵀ
                    int rows = Math.min(R, T - i0);
                    tile(dScores, ds, Tp, false, dOut, dOut0 + h * hd, qDim, 1, transposed, vT, Tp, i0, rows, padded(i0 + rows), 0, hd);
                }
                for (int t = 0; t < T; t++) softmaxBackwardRow(dScores, ds + t * Tp, probs, p0 + t * Tp, scope.firstKey(t), t + 1, Tp);
                for (int i0 = 0; i0 < T; i0 += R) {
                    int rows = Math.min(R, T - i0);
                    // dq = dS·k (this head only: overwrite)
                    tile(dqkv, rows0 + h * hd, S, false, dScores, ds, Tp, 1, qkv, rows0 + kOff, S, i0, rows, hd, scope.firstKey(i0), i0 + rows);
                    // dk += dSᵀ·q and dv += Pᵀ·dOut, over the rows t ≥ the block's first key position
                    tile(dqkv, rows0 + kOff, S, true, dScores, ds, 1, Tp, qkv, rows0 + h * hd, S, i0, rows, hd, i0, T);
                    tile(dqkv, rows0 + vOff, S, true, probs, p0, 1, Tp, dOut, dOut0 + h * hd, qDim, i0, rows, hd, i0, T);
                }
            }
        });
    }

    /** Softmax of {@code scale·x} over the entries {@code [lo, n)} of a row; zeros the rest up to {@code width}. */
    private void softmaxRow(float[] x, int off, int lo, int n, int width) {
        int start = lo / L * L, covered = padded(n);
        Arrays.fill(x, off, off + start, 0f);
        FloatVector maxes = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        for (int j = start; j < covered; j += L) {
            VectorMask<Float> live = F.indexInRange(j, n).andNot(F.indexInRange(j, lo));
            maxes = maxes.max(FloatVector.fromArray(F, x, off + j).blend(Float.NEGATIVE_INFINITY, live.not()));
        }
        float max = maxes.reduceLanes(VectorOperators.MAX); // exact in any order
        FloatVector sums = FloatVector.zero(F);
        for (int j = start; j < covered; j += L) {
            VectorMask<Float> live = F.indexInRange(j, n).andNot(F.indexInRange(j, lo));
            FloatVector e = VectorMath.exp(FloatVector.fromArray(F, x, off + j).sub(max).mul(scale)).blend(0f, live.not());
            sums = sums.add(e);
            e.intoArray(x, off + j);
        }
        float inv = 1f / VectorMath.sumLanes(sums);
        for (int j = start; j < covered; j += L) FloatVector.fromArray(F, x, off + j).mul(inv).intoArray(x, off + j);
        Arrays.fill(x, off + covered, off + width, 0f);
    }

    /**
     * Turns a row of dP into dS = P·(dP − Σ P·dP)·scale, the gradient of the unscaled scores; zeros
     * the row outside {@code [lo, n)} up to {@code width} (P is zero there already).
     */
    private void softmaxBackwardRow(float[] d, int off, float[] p, int pOff, int lo, int n, int width) {
        int start = lo / L * L, covered = padded(n);
        Arrays.fill(d, off, off + start, 0f);
        FloatVector dots = FloatVector.zero(F);
        for (int j = start; j < covered; j += L)
            dots = FloatVector.fromArray(F, p, pOff + j).fma(FloatVector.fromArray(F, d, off + j), dots);
        float total = VectorMath.sumLanes(dots);
        for (int j = start; j < covered; j += L) {
            FloatVector pv = FloatVector.fromArray(F, p, pOff + j);
            pv.mul(FloatVector.fromArray(F, d, off + j).sub(total)).mul(scale).intoArray(d, off + j);
        }
        Arrays.fill(d, off + covered, off + width, 0f);
    }

    /**
     * The register tile: {@code c[cOff + i·ldc + j] (+)= Σ_{p ∈ [pLo, pHi)} a[aOff + i·ai + p·ap] · b[bOff + p·ldb + j]}
     * for rows {@code i ∈ [i0, i0 + rows)} ({@code rows ≤ R}) and columns {@code j ∈ [0, n)}, one
     * vector of columns at a time. Missing rows of a short tile repeat the last row and are not stored.
     */
    private static void tile(float[] c, int cOff, int ldc, boolean add, float[] a, int aOff, int ai, int ap,
                             float[] b, int bOff, int ldb, int i0, int rows, int n, int pLo, int pHi) {
        int last = rows - 1;
        int a0 = aOff + i0 * ai, a1 = aOff + (i0 + Math.min(1, last)) * ai, a2 = aOff + (i0 + Math.min(2, last)) * ai,
                a3 = aOff + (i0 + Math.min(3, last)) * ai, a4 = aOff + (i0 + Math.min(4, last)) * ai,
                a5 = aOff + (i0 + Math.min(5, last)) * ai, a6 = aOff + (i0 + Math.min(6, last)) * ai,
                a7 = aOff + (i0 + Math.min(7, last)) * ai;
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = F.indexInRange(j, n);
            FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
            for (int p = pLo; p < pHi; p++) {
                FloatVector bv = FloatVector.fromArray(F, b, bOff + p * ldb + j, m);
                int o = p * ap;
                c0 = bv.fma(FloatVector.broadcast(F, a[a0 + o]), c0);
                c1 = bv.fma(FloatVector.broadcast(F, a[a1 + o]), c1);
                c2 = bv.fma(FloatVector.broadcast(F, a[a2 + o]), c2);
                c3 = bv.fma(FloatVector.broadcast(F, a[a3 + o]), c3);
                c4 = bv.fma(FloatVector.broadcast(F, a[a4 + o]), c4);
                c5 = bv.fma(FloatVector.broadcast(F, a[a5 + o]), c5);
                c6 = bv.fma(FloatVector.broadcast(F, a[a6 + o]), c6);
                c7 = bv.fma(FloatVector.broadcast(F, a[a7 + o]), c7);
            }
            int o = cOff + i0 * ldc + j;
            store(c, o, add, m, c0);
            if (rows > 1) store(c, o + ldc, add, m, c1);
            if (rows > 2) store(c, o + 2 * ldc, add, m, c2);
            if (rows > 3) store(c, o + 3 * ldc, add, m, c3);
            if (rows > 4) store(c, o + 4 * ldc, add, m, c4);
            if (rows > 5) store(c, o + 5 * ldc, add, m, c5);
            if (rows > 6) store(c, o + 6 * ldc, add, m, c6);
            if (rows > 7) store(c, o + 7 * ldc, add, m, c7);
        }
    }

    private static void store(float[] c, int off, boolean add, VectorMask<Float> m, FloatVector v) {
        if (add) v = v.add(FloatVector.fromArray(F, c, off, m));
        v.intoArray(c, off, m);
    }

    /** {@code dst[dstOff + d·Tp + t] = src[srcOff + t·stride + d]} for one head over T rows; zero for t in [T, Tp). */
    private static void transpose(float[] src, int srcOff, int stride, float[] dst, int dstOff, int T, int Tp, int hd) {
        for (int d = 0; d < hd; d++) {
            int row = dstOff + d * Tp;
            for (int t = 0; t < T; t++) dst[row + t] = src[srcOff + t * stride + d];
            Arrays.fill(dst, row + T, row + Tp, 0f);
        }
    }
}
