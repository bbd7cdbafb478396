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
 * Causal softmax attention with grouped-query heads, {@code out = softmax(q·kᵀ/√hd + mask)·v}, computed
 * in tiles (FlashAttention-2): the {@code T × T} score matrix never exists. Batches {@code [B, T]} keep
 * queries, keys and values in one fused row per token: {@code qkv[b·T + t]} holds {@code H} query
 * heads, then {@code KV} key heads, then {@code KV} value heads, each {@code hd} wide. Query head
 * {@code h} reads key/value head {@code h / (H/KV)}. The query at position t sees the keys
 * {@code scope.firstKey(t) .. t} ({@link AttentionScope}: all of {@code 0 .. t} without Llama 4's chunks).
 *
 * <p>Forward, per (sequence, head) and per block of {@link #R} query rows: scores against one tile of
 * {@link #KEY_BLOCK} keys at a time (from the tile holding the block's first visible key), an online softmax (running maximum and sum; the output rows
 * rescaled when the maximum grows), and the output accumulated as {@code P·v}. It keeps only the
 * logsumexp of each row ({@code [B, H, T]}) for backward.
 *
 * <p>Backward, per (sequence, key/value head), for each of its query heads and each key tile: the
 * scores of all the query rows that see the tile are recomputed, {@code P = exp(s/√hd − lse)}, then
 * {@code dP = dOut·vᵀ}, {@code dS = P·(dP − rowsum(dOut·out))/√hd}, and {@code dq += dS·k},
 * {@code dk += dSᵀ·q}, {@code dv += Pᵀ·dOut}: P and dS block by block of rows, then dq, dk and dv
 * each in a pass of its own over the tile's rows (fewer operands in play at a time than interleaved
 * per row block: a few per cent faster). Work space is per thread and linear in T.
 *
 * <p>The products stream over one head's rows, which are copied out of the fused buffers first (see
 * {@link #pack}); keys and values are also transposed, as the column operand of the score products.
 *
 * <p>Every product is a small matrix product on one head, done by {@link #tile}: a register tile of
 * {@link #R} rows by two vectors, skipping the blocks that the causal mask zeroes. Sums run in a fixed
 * order and every task writes only its own outputs: the same bits for any thread count.
 *
 * <p>The softmax loops build the masks of their edge vectors inline and sum their lanes from an
 * array: C2 inlines the Vector API's own methods whatever their size, but left small helpers of ours
 * out of line in these large compiled methods (its node-count cutoff), and every call then boxed a
 * mask or a vector (a steady allocation that kept the young collector busy).
 */
final class FlashAttention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    /** Rows of a register tile: eight independent FMA chains; also the query rows of a forward block. */
    private static final int R = 8;
    /** Keys per tile: a multiple of {@link #R} and of the vector length (up to 64 lanes). */
    private static final int KEY_BLOCK = 128;
    /**
     * Floats from one row of a score tile to the next: a vector more than a tile's keys. At 128 floats
     * (512 bytes) a block's eight rows cover 4 KB exactly, so each row lies a multiple of 4 KB from the
     * rows of the blocks before it, and loads then wait on unrelated stores with the same low address
     * bits (4K aliasing, presumably): the kernel ran ~5% slower, with the same bits.
     */
    private static final int SCORE_STRIDE = KEY_BLOCK + L;

    private final int heads, kvHeads, headDim, qkvStride, maxSeq;
    private final float scale;
    private final ThreadLocal<Scratch> scratch;

    /** Per-thread work space, linear in the sequence length. */
    private static final class Scratch {
        final float[] keysT, valuesT; // one key or value head as [hd, Tp]
        final float[] qRows, kRows, vRows, dRows; // one head's q, k, v or dOut rows packed as [T, hd]
        final float[] scores, dScores; // [T, KEY_BLOCK] with rows SCORE_STRIDE apart: scores then P; dP then dS
        final float[] rowMax = new float[R], rowSum = new float[R], alpha = new float[R]; // a forward block's online softmax
        final int[] from = new int[R], to = new int[R]; // the entries of a block's rows that a key tile shows them
        final float[] acc = new float[R * 2 * L]; // one register tile on its way out, or a block's row sums
        final float[] rowDot;          // [T]: rowsum(dOut·out) of one head

        Scratch(int headDim, int maxSeq) {
            keysT = new float[headDim * padded(maxSeq)];
            valuesT = new float[headDim * padded(maxSeq)];
            qRows = new float[maxSeq * headDim];
            kRows = new float[maxSeq * headDim];
            vRows = new float[maxSeq * headDim];
            dRows = new float[maxSeq * headDim];
            scores = new float[Math.max(R, maxSeq) * SCORE_STRIDE];
            dScores = new float[maxSeq * SCORE_STRIDE];
            rowDot = new float[maxSeq];
        }
    }

    FlashAttention(int heads, int kvHeads, int headDim, int maxSeq) {
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.qkvStride = (heads + 2 * kvHeads) * headDim;
        this.scale = (float) (1.0 / Math.sqrt(headDim));
        this.maxSeq = maxSeq;
        if ((long) maxSeq * SCORE_STRIDE > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException("attention work space for sequence " + maxSeq + " exceeds 2^31 floats");
        this.scratch = ThreadLocal.withInitial(() -> new Scratch(headDim, maxSeq));
    }

    private static int padded(int n) {
        return (n + L - 1) / L * L;
    }

    /** Size of the logsumexp buffer {@code [B, H, T]} a layer keeps for up to {@code maxBatch} sequences. */
    int lseSize(int maxBatch) {
        return maxBatch * heads * maxSeq;
    }

    /** {@code out[B·T, H·hd]} from {@code qkv[B·T, (H+2KV)·hd]} over the keys {@code scope} lets each query see; fills {@code lse[B, H, T]}. */
    void forward(float[] qkv, float[] out, float[] lse, int batch, int seq, AttentionScope scope) {
        Parallel.forRange(batch * heads, task -> forwardHead(qkv, out, lse, task, seq, scope));
    }

    private void forwardHead(float[] qkv, float[] out, float[] lse, int task, int T, AttentionScope scope) {
        Scratch w = scratch.get();
        int hd = headDim, S = qkvStride, qDim = heads * hd, Tp = padded(T);
        int b = task / heads, h = task % heads, kvh = h / (heads / kvHeads), rows0 = b * T * S;
        int qOff = rows0 + h * hd, kOff = rows0 + qDim + kvh * hd, vOff = rows0 + qDim + kvHeads * hd + kvh * hd;
        int oOff = b * T * qDim + h * hd, lse0 = task * T;
        transpose(qkv, kOff, S, w.keysT, T, Tp, hd);
        pack(qkv, vOff, S, w.vRows, T, hd);
        for (int i0 = 0; i0 < T; i0 += R) {
            // keys [firstKey(i0), end) are visible to some row of the block; tiles stay KEY_BLOCK-aligned
            int rows = Math.min(R, T - i0), end = i0 + rows, start = scope.firstKey(i0) / KEY_BLOCK * KEY_BLOCK;
            for (int j0 = start; j0 < end; j0 += KEY_BLOCK) {
                int cols = Math.min(KEY_BLOCK, end - j0);
                tile(w.acc, w.scores, 0, SCORE_STRIDE, false, qkv, qOff + i0 * S, S, 1, w.keysT, j0, Tp, rows, padded(cols), 0, hd);
                softmaxTile(w, i0, rows, j0, cols, j0 == start, scope);
                if (j0 > start) for (int r = 0; r < rows; r++) scaleRow(out, oOff + (i0 + r) * qDim, w.alpha[r], hd);
                tile(w.acc, out, oOff + i0 * qDim, qDim, j0 > start, w.scores, 0, SCORE_STRIDE, 1, w.vRows, j0 * hd, hd, rows, hd, 0, cols);
            }
            for (int r = 0; r < rows; r++) {
                scaleRow(out, oOff + (i0 + r) * qDim, 1f / w.rowSum[r], hd);
                lse[lse0 + i0 + r] = w.rowMax[r] * scale + (float) StrictMath.log(w.rowSum[r]);
            }
        }
    }

    /**
     * The online softmax on the score tile of the query rows {@code [i0, i0 + rows)} against the keys
     * {@code [j0, j0 + cols)}: turns each row's visible entries into {@code exp(scale·(x − m))} with m the
     * row's running maximum, zeros the rest up to {@code cols}, and updates the running maxima and sums.
     * Leaves in {@code w.alpha} the factor by which each row's output accumulated so far must be
     * multiplied (the old maximum's weight under the new one; 0 while nothing was visible yet, as a row
     * of a chunked layer sees nothing in the tiles before its chunk).
     *
     * <p>In three passes over the rows (maxima, exponentials, lane sums) rather than one row at a time:
     * a row's work is short and ends in serial chains (the maximum's reduction before its exponentials,
     * L lane additions after them), which the processor overlaps only across independent rows
     * (forward 1.68 → 1.58 ms a layer of the reference model on one thread).
     */
    private void softmaxTile(Scratch w, int i0, int rows, int j0, int cols, boolean first, AttentionScope scope) {
        float[] x = w.scores;
        for (int r = 0; r < rows; r++) {
            int t = i0 + r, off = r * SCORE_STRIDE, from = Math.max(0, scope.firstKey(t) - j0), n = Math.min(cols, t + 1 - j0);
            FloatVector maxes = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (int j = 0; j < n; j += L) {
                FloatVector v = FloatVector.fromArray(F, x, off + j);
                if (j < from || j + L > n) v = v.blend(Float.NEGATIVE_INFINITY, F.indexInRange(j, n).andNot(F.indexInRange(j, from)).not());
                maxes = maxes.lanewise(VectorOperators.MAX, v); // not max(v): C2 left that call a boxed, per-lane fallback here
            }
            float tileMax = maxes.reduceLanes(VectorOperators.MAX); // exact in any order
            float old = first ? Float.NEGATIVE_INFINITY : w.rowMax[r], max = Math.max(old, tileMax);
            w.alpha[r] = old == Float.NEGATIVE_INFINITY ? 0f : (float) StrictMath.exp((old - max) * scale);
            w.rowMax[r] = max;
            w.from[r] = from;
            w.to[r] = n;
        }
        for (int r = 0; r < rows; r++) {
            int off = r * SCORE_STRIDE, from = w.from[r], n = w.to[r], covered = padded(n);
            float max = w.rowMax[r];
            FloatVector sums = FloatVector.zero(F);
            for (int j = 0; j < covered; j += L) {
                FloatVector e = VectorMath.exp(FloatVector.fromArray(F, x, off + j).sub(max).mul(scale));
                if (j < from || j + L > n) e = e.blend(0f, F.indexInRange(j, n).andNot(F.indexInRange(j, from)).not());
                sums = sums.add(e);
                e.intoArray(x, off + j);
            }
            if (covered < cols) Arrays.fill(x, off + covered, off + cols, 0f);
            sums.intoArray(w.acc, r * 2 * L);
        }
        for (int r = 0; r < rows; r++)
            w.rowSum[r] = (first ? 0f : w.rowSum[r] * w.alpha[r]) + VectorMath.sumLanes(w.acc, r * 2 * L, L);
    }

    /**
     * Given {@code dOut[B·T, H·hd]} and the forward's {@code out} and {@code lse}, writes the query,
     * key and value gradients into {@code dqkv[B·T, (H+2KV)·hd]} (same layout as {@code qkv}).
     * Parallel over (sequence, kv head): the heads that share a key/value head add into it in order.
     */
    void backward(float[] dOut, float[] qkv, float[] out, float[] lse, float[] dqkv, int batch, int seq, AttentionScope scope) {
        Parallel.forRange(batch * kvHeads, task -> backwardKvHead(dOut, qkv, out, lse, dqkv, task, seq, scope));
    }

    private void backwardKvHead(float[] dOut, float[] qkv, float[] out, float[] lse, float[] dqkv, int task, int T,
                                AttentionScope scope) {
        Scratch w = scratch.get();
        int hd = headDim, S = qkvStride, qDim = heads * hd, Tp = padded(T), group = heads / kvHeads;
        int b = task / kvHeads, kvh = task % kvHeads, rows0 = b * T * S;
        int kOff = rows0 + qDim + kvh * hd, vOff = rows0 + qDim + kvHeads * hd + kvh * hd;
        transpose(qkv, kOff, S, w.keysT, T, Tp, hd);
        transpose(qkv, vOff, S, w.valuesT, T, Tp, hd);
        pack(qkv, kOff, S, w.kRows, T, hd);
        for (int h = kvh * group; h < (kvh + 1) * group; h++) {
            boolean addKv = h > kvh * group; // the first query head writes every dk, dv row (each key sees its own query)
            int qOff = rows0 + h * hd, oOff = b * T * qDim + h * hd, lse0 = (b * heads + h) * T;
            pack(qkv, qOff, S, w.qRows, T, hd);
            pack(dOut, oOff, qDim, w.dRows, T, hd);
            for (int t = 0; t < T; t++) w.rowDot[t] = dot(w.dRows, t * hd, out, oOff + t * qDim, hd);
            for (int j0 = 0; j0 < T; j0 += KEY_BLOCK) {
                int cols = Math.min(KEY_BLOCK, T - j0), count = T - j0; // query rows [j0, T) see the tile
                for (int i0 = j0; i0 < T; i0 += R) {
                    int rows = Math.min(R, T - i0), seen = Math.min(cols, i0 + rows - j0), width = padded(seen);
                    int s0 = (i0 - j0) * SCORE_STRIDE;
                    tile(w.acc, w.scores, s0, SCORE_STRIDE, false, w.qRows, i0 * hd, hd, 1, w.keysT, j0, Tp, rows, width, 0, hd);
                    tile(w.acc, w.dScores, s0, SCORE_STRIDE, false, w.dRows, i0 * hd, hd, 1, w.valuesT, j0, Tp, rows, width, 0, hd);
                    for (int r = 0; r < rows; r++) {
                        int t = i0 + r;
                        // zeros up to the block's last key only: no product reads a row further
                        softmaxBackwardRow(w, s0 + r * SCORE_STRIDE, Math.max(0, scope.firstKey(t) - j0), Math.min(cols, t + 1 - j0), seen,
                                lse[lse0 + t], w.rowDot[t]);
                    }
                }
                for (int i0 = j0; i0 < T; i0 += R) { // dq = Σ over key tiles of dS·k (the first tile overwrites)
                    int rows = Math.min(R, T - i0), seen = Math.min(cols, i0 + rows - j0);
                    tile(w.acc, dqkv, qOff + i0 * S, S, j0 > 0, w.dScores, (i0 - j0) * SCORE_STRIDE, SCORE_STRIDE, 1, w.kRows, j0 * hd, hd, rows, hd, 0, seen);
                }
                for (int k0 = 0; k0 < cols; k0 += R) { // dk += dSᵀ·q over the rows t ≥ the key
                    int keys = Math.min(R, cols - k0);
                    tile(w.acc, dqkv, kOff + (j0 + k0) * S, S, addKv, w.dScores, k0, 1, SCORE_STRIDE, w.qRows, j0 * hd, hd, keys, hd, k0, count);
                }
                for (int k0 = 0; k0 < cols; k0 += R) { // dv += Pᵀ·dOut likewise
                    int keys = Math.min(R, cols - k0);
                    tile(w.acc, dqkv, vOff + (j0 + k0) * S, S, addKv, w.scores, k0, 1, SCORE_STRIDE, w.dRows, j0 * hd, hd, keys, hd, k0, count);
                }
            }
        }
    }

    /**
     * One row of a key tile in backward, the entries {@code [from, n)} visible: the scores become
     * {@code P = exp(scale·x − lse)} and dP becomes {@code dS = P·(dP − rowDot)·scale}, the gradient
     * of the unscaled scores; both are zero elsewhere up to {@code cols}.
     */
    private void softmaxBackwardRow(Scratch w, int off, int from, int n, int cols, float lse, float rowDot) {
        float[] p = w.scores, d = w.dScores;
        int covered = padded(n);
        for (int j = 0; j < covered; j += L) {
            FloatVector pv = VectorMath.exp(FloatVector.fromArray(F, p, off + j).mul(scale).sub(lse));
            if (j < from || j + L > n) pv = pv.blend(0f, F.indexInRange(j, n).andNot(F.indexInRange(j, from)).not());
            pv.intoArray(p, off + j);
            pv.mul(FloatVector.fromArray(F, d, off + j).sub(rowDot)).mul(scale).intoArray(d, off + j);
        }
        if (covered < cols) {
            Arrays.fill(p, off + covered, off + cols, 0f);
            Arrays.fill(d, off + covered, off + cols, 0f);
        }
    }

    private static float dot(float[] a, int aOff, float[] b, int bOff, int n) {
        FloatVector sums = FloatVector.zero(F);
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = F.indexInRange(j, n);
            sums = FloatVector.fromArray(F, a, aOff + j, m).fma(FloatVector.fromArray(F, b, bOff + j, m), sums);
        }
        return VectorMath.sumLanes(sums);
    }

    private static void scaleRow(float[] x, int off, float factor, int n) {
        for (int j = 0; j < n; j += L) {
            VectorMask<Float> m = F.indexInRange(j, n);
            FloatVector.fromArray(F, x, off + j, m).mul(factor).intoArray(x, off + j, m);
        }
    }

    /**
     * The register tile: {@code c[cOff + i·ldc + j] (+)= Σ_{p ∈ [pLo, pHi)} a[aOff + i·ai + p·ap] · b[bOff + p·ldb + j]}
     * for rows {@code i ∈ [0, rows)} ({@code rows ≤ R}) and columns {@code j ∈ [0, n)}: two vectors of
     * columns at a time (sixteen FMA chains, ten loads per sixteen FMAs), then a last single vector.
     * Missing rows of a short tile repeat the last row and are not stored. {@code acc} holds {@code R·2L} floats.
     *
     * <p>Both kernels are written out here rather than in methods of their own: C2 will not inline a
     * method this large into its caller, and as separate compiled methods called once per column pair
     * (32 iterations at a head width of 32) the kernel ran about 15% slower over a layer's attention.
     */
    private static void tile(float[] acc, float[] c, int cOff, int ldc, boolean add, float[] a, int aOff, int ai, int ap,
                             float[] b, int bOff, int ldb, int rows, int n, int pLo, int pHi) {
        int last = rows - 1, w = 2 * L;
        for (int j = 0; j < n; j += 2 * L) {
            int bj = bOff + j;
            // the rows' offsets, loop-invariant but set here: computed once before the loop, they stayed
            // live across both kernels and C2 ran the tile ~8% slower (spilled registers, presumably)
            int a0 = aOff, a1 = aOff + Math.min(1, last) * ai, a2 = aOff + Math.min(2, last) * ai,
                    a3 = aOff + Math.min(3, last) * ai, a4 = aOff + Math.min(4, last) * ai,
                    a5 = aOff + Math.min(5, last) * ai, a6 = aOff + Math.min(6, last) * ai,
                    a7 = aOff + Math.min(7, last) * ai;
            if (j + L < n) { // columns [j, min(j + 2L, n)): two vectors, the second masked at the edge
                VectorMask<Float> mh = F.indexInRange(j + L, n);
                FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
                FloatVector h0 = c0, h1 = c0, h2 = c0, h3 = c0, h4 = c0, h5 = c0, h6 = c0, h7 = c0;
                for (int p = pLo; p < pHi; p++) {
                    FloatVector bv = FloatVector.fromArray(F, b, bj + p * ldb);
                    FloatVector bh = FloatVector.fromArray(F, b, bj + p * ldb + L, mh);
                    int o = p * ap;
                    FloatVector x = FloatVector.broadcast(F, a[a0 + o]);
                    c0 = bv.fma(x, c0); h0 = bh.fma(x, h0);
                    x = FloatVector.broadcast(F, a[a1 + o]);
                    c1 = bv.fma(x, c1); h1 = bh.fma(x, h1);
                    x = FloatVector.broadcast(F, a[a2 + o]);
                    c2 = bv.fma(x, c2); h2 = bh.fma(x, h2);
                    x = FloatVector.broadcast(F, a[a3 + o]);
                    c3 = bv.fma(x, c3); h3 = bh.fma(x, h3);
                    x = FloatVector.broadcast(F, a[a4 + o]);
                    c4 = bv.fma(x, c4); h4 = bh.fma(x, h4);
                    x = FloatVector.broadcast(F, a[a5 + o]);
                    c5 = bv.fma(x, c5); h5 = bh.fma(x, h5);
                    x = FloatVector.broadcast(F, a[a6 + o]);
                    c6 = bv.fma(x, c6); h6 = bh.fma(x, h6);
                    x = FloatVector.broadcast(F, a[a7 + o]);
                    c7 = bv.fma(x, c7); h7 = bh.fma(x, h7);
                }
                c0.intoArray(acc, 0); h0.intoArray(acc, L); c1.intoArray(acc, w); h1.intoArray(acc, w + L);
                c2.intoArray(acc, 2 * w); h2.intoArray(acc, 2 * w + L); c3.intoArray(acc, 3 * w); h3.intoArray(acc, 3 * w + L);
                c4.intoArray(acc, 4 * w); h4.intoArray(acc, 4 * w + L); c5.intoArray(acc, 5 * w); h5.intoArray(acc, 5 * w + L);
                c6.intoArray(acc, 6 * w); h6.intoArray(acc, 6 * w + L); c7.intoArray(acc, 7 * w); h7.intoArray(acc, 7 * w + L);
            } else { // the last columns [j, n), n - j ≤ L: one masked vector
                VectorMask<Float> m = F.indexInRange(j, n);
                FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
                for (int p = pLo; p < pHi; p++) {
                    FloatVector bv = FloatVector.fromArray(F, b, bj + p * ldb, m);
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
                c0.intoArray(acc, 0); c1.intoArray(acc, w); c2.intoArray(acc, 2 * w); c3.intoArray(acc, 3 * w);
                c4.intoArray(acc, 4 * w); c5.intoArray(acc, 5 * w); c6.intoArray(acc, 6 * w); c7.intoArray(acc, 7 * w);
            }
            flush(acc, c, cOff + j, ldc, add, rows, n - j);
        }
    }

    /**
     * Writes (or adds) rows [0, rows) and columns [0, min(n, 2L)) of a register tile left in {@code acc}
     * (rows 2L apart) to the output.
     */
    private static void flush(float[] acc, float[] c, int cOff, int ldc, boolean add, int rows, int n) {
        if (n >= 2 * L) { // whole vectors: no masks to build
            for (int r = 0; r < rows; r++) {
                int o = cOff + r * ldc, t = r * 2 * L;
                FloatVector v0 = FloatVector.fromArray(F, acc, t), v1 = FloatVector.fromArray(F, acc, t + L);
                if (add) {
                    v0 = v0.add(FloatVector.fromArray(F, c, o));
                    v1 = v1.add(FloatVector.fromArray(F, c, o + L));
                }
                v0.intoArray(c, o);
                v1.intoArray(c, o + L);
            }
            return;
        }
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < n && j < 2 * L; j += L) {
                VectorMask<Float> m = F.indexInRange(j, n);
                FloatVector v = FloatVector.fromArray(F, acc, r * 2 * L + j);
                if (add) v = v.add(FloatVector.fromArray(F, c, cOff + r * ldc + j, m));
                v.intoArray(c, cOff + r * ldc + j, m);
            }
        }
    }

    /**
     * {@code dst[t·hd + d] = src[srcOff + t·stride + d]}: one head's rows packed together. The products
     * stream over up to T rows of a head; in place, 1.5 KB or 512 B apart in the fused buffers, those rows
     * fall in a few L1 sets only and evict each other (T = 128: 16 of 64 sets for 256 lines).
     */
    private static void pack(float[] src, int srcOff, int stride, float[] dst, int T, int hd) {
        for (int t = 0; t < T; t++) System.arraycopy(src, srcOff + t * stride, dst, t * hd, hd);
    }

    /** {@code dst[d·Tp + t] = src[srcOff + t·stride + d]} for one head over T rows; zero for t in [T, Tp). */
    private static void transpose(float[] src, int srcOff, int stride, float[] dst, int T, int Tp, int hd) {
        int d = 0;
        for (; d + 4 <= hd; d += 4) { // four destination rows at a time: a quarter of the strided passes over the source
            int r0 = d * Tp, r1 = r0 + Tp, r2 = r1 + Tp, r3 = r2 + Tp;
            for (int t = 0, s = srcOff + d; t < T; t++, s += stride) {
                dst[r0 + t] = src[s];
                dst[r1 + t] = src[s + 1];
                dst[r2 + t] = src[s + 2];
                dst[r3 + t] = src[s + 3];
            }
        }
        for (; d < hd; d++) {
            for (int t = 0; t < T; t++) dst[d * Tp + t] = src[srcOff + t * stride + d];
        }
        for (d = 0; d < hd; d++) Arrays.fill(dst, d * Tp + T, d * Tp + Tp, 0f);
    }
}
