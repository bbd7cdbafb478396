package ai.behemoth.model;

import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.VectorMath;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;


import java.util.Arrays;

/**
 * Attention of a prompt chunk: rows that all extend one sequence, each query against that sequence's
 * cached keys and values up to its own position (within its {@link AttentionScope}), one parallel
 * task per row and query head.
 *
 * <p>Why a second attention beside {@link InferenceModel}'s one-key-at-a-time loop: that loop takes
 * a horizontal sum of lanes per key for the score and reads and writes the output per key, which
 * cost more than the rest of the attention together. Here the chunk's keys are first transposed,
 * {@code keysT[kvh, d, t]}, once per layer for all the chunk's rows, so that a vector holds the scores
 * of {@link #L} keys: {@code score[t] = Σ_d q[d]·k[t, d]}, four chains of fused multiply-adds over
 * {@code d ≡ 0, 1, 2, 3 (mod 4)} added as {@code (c0 + c1) + (c2 + c3)}; then the softmax on vectors
 * ({@link VectorMath#exp}, its sum over lanes in a fixed order); then
 * {@code out = (Σ_t e[t]·v[t])·(1/Σ e)}, two chains over even and odd keys added, with the output
 * in registers. The bits do not depend on the thread count; they differ from the one-key loop within
 * float rounding. For one row (decode) transposing the keys would cost about as much as attending.
 */
final class PrefillAttention {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    private final int heads, kvHeads, headDim, qDim, kvDim;
    /** The keys of positions [lo, lo + span), transposed: [kvHeads·headDim, span], zero beyond the last position. */
    private float[] keysT = new float[0];

    /** Per thread: a query's scores (and its scaled query after them), and room for the lanes of one vector. */
    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[][]{new float[0], new float[L]});

    /** For {@code heads} query heads sharing {@code kvHeads} key/value heads (grouped-query), all {@code headDim} wide. */
    PrefillAttention(int heads, int kvHeads, int headDim) {
        this.heads = heads;
        this.kvHeads = kvHeads;
        this.headDim = headDim;
        this.qDim = heads * headDim;
        this.kvDim = kvHeads * headDim;
    }

    /** Whether {@link #attend} takes this batch: more than one row, all of one sequence. */
    static boolean applies(Batch batch, int n) {
        if (n < 2) return false;
        for (int r = 1; r < n; r++) if (batch.sequence[r] != batch.sequence[0]) return false;
        return true;
    }

    /**
     * {@code att[r, h] = softmax(scale·queryScale·q[r, h]·K[kvh]ᵀ)·V[kvh]} over the keys the row at
     * position {@code p} sees ({@code scope.firstKey(p) .. p}), for every row and query head;
     * the rows' keys and values are already in the sequence's cache.
     */
    void attend(int layer, Batch batch, int n, float[] q, float[] att, AttentionScope scope, float scale) {
        Sequence s = batch.sequence[0];
        float[] keys = s.keys[layer], values = s.values[layer];
        int lo = Integer.MAX_VALUE, hi = -1;
        for (int r = 0; r < n; r++) {
            lo = Math.min(lo, scope.firstKey(batch.position[r]));
            hi = Math.max(hi, batch.position[r]);
        }
        int from = lo, span = (hi - lo + 1 + L - 1) / L * L;
        if (keysT.length < kvDim * span) keysT = new float[kvDim * span];
        float[] kt = keysT;
        for (int c = 0; c < kvDim; c++) {
            int row = c * span;
            for (int t = lo; t <= hi; t++) kt[row + t - lo] = keys[t * kvDim + c];
            Arrays.fill(kt, row + hi - lo + 1, row + span, 0f);
        }
        int group = heads / kvHeads;
        Parallel.forRange(n * heads, task -> {
            int r = task / heads, h = task % heads, pos = batch.position[r];
            float qScale = scale * scope.queryScale(pos);
            attendOne(q, r * qDim + h * headDim, qScale, kt, span, (h / group) * headDim, from,
                    scope.firstKey(pos) - from, pos - from, values, att);
        });
    }

    /**
     * One query: keys {@code first..last} (relative to the transposed block's first position
     * {@code from}) of kv column {@code kvCol}; writes {@code att[qo..qo + headDim)}. One method per
     * phase, none passing a vector to a method of ours but {@link VectorMath#exp}, and no masks: the
     * keys of the first and last blocks that lie outside {@code first..last} are set in the scores
     * array instead. C2 stops inlining once a method's graph is large, and a call it leaves allocates
     * every vector that crosses it (about 30 MB/s in a steady prefill when the whole query was one
     * method with helpers for its masks).
     */
    private void attendOne(float[] q, int qo, float qScale, float[] kt, int span, int kvCol, int from,
                           int first, int last, float[] values, float[] att) {
        float[][] scratch = SCRATCH.get();
        if (scratch[0].length < span + headDim) scratch[0] = new float[Math.max(span + headDim, 2 * scratch[0].length)];
        float[] scores = scratch[0];
        int qs = span; // the scaled query lives after the scores
        for (int d = 0; d < headDim; d++) scores[qs + d] = q[qo + d] * qScale;
        float max = score(scores, qs, kt, span, kvCol, first, last);
        softmaxAndMix(scores, first, last, max, from, kvCol, values, att, qo);
    }

    /**
     * The softmax of the scores {@code scores[first..last]} (maximum {@code max}) and the values it
     * weighs: {@code att[qo..qo + headDim)} for keys at positions {@code from + first .. from + last} of
     * kv column {@code kvCol}. Writes {@code scores} over the blocks of L that hold {@code first..last}:
     * the array must reach {@link #scoreSpan}{@code (last)}. Decode's attention shares it.
     */
    void softmaxAndMix(float[] scores, int first, int last, float max, int from, int kvCol, float[] values, float[] att, int qo) {
        float inv = 1f / exponentiate(scores, first, last, max, SCRATCH.get()[1]);
        mix(scores, inv, first, last, from, kvCol, values, att, qo);
    }

    /** How far {@link #softmaxAndMix} writes into its scores array for keys up to {@code last}: to the end of last's block of L. */
    static int scoreSpan(int last) {
        return last / L * L + L;
    }

    /**
     * The scores of every key of the blocks of L that hold {@code first..last} into {@code scores},
     * −∞ for those outside {@code first..last}; returns the maximum.
     */
    private float score(float[] scores, int qs, float[] kt, int span, int kvCol, int first, int last) {
        int b0 = first / L * L, b1 = last / L * L + L;
        int b = b0;
        for (; b + L < b1; b += 2 * L) { // two blocks of keys at once, so that each broadcast of q[d] feeds two multiply-adds
            FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0, e0 = c0, e1 = c0, e2 = c0, e3 = c0;
            int k = kvCol * span + b, d = 0;
            for (; d + 4 <= headDim; d += 4, k += 4 * span) {
                FloatVector q0 = FloatVector.broadcast(F, scores[qs + d]), q1 = FloatVector.broadcast(F, scores[qs + d + 1]);
                FloatVector q2 = FloatVector.broadcast(F, scores[qs + d + 2]), q3 = FloatVector.broadcast(F, scores[qs + d + 3]);
                c0 = FloatVector.fromArray(F, kt, k).fma(q0, c0);
                e0 = FloatVector.fromArray(F, kt, k + L).fma(q0, e0);
                c1 = FloatVector.fromArray(F, kt, k + span).fma(q1, c1);
                e1 = FloatVector.fromArray(F, kt, k + span + L).fma(q1, e1);
                c2 = FloatVector.fromArray(F, kt, k + 2 * span).fma(q2, c2);
                e2 = FloatVector.fromArray(F, kt, k + 2 * span + L).fma(q2, e2);
                c3 = FloatVector.fromArray(F, kt, k + 3 * span).fma(q3, c3);
                e3 = FloatVector.fromArray(F, kt, k + 3 * span + L).fma(q3, e3);
            }
            for (; d < headDim; d++, k += span) {
                FloatVector qd = FloatVector.broadcast(F, scores[qs + d]);
                c0 = FloatVector.fromArray(F, kt, k).fma(qd, c0);
                e0 = FloatVector.fromArray(F, kt, k + L).fma(qd, e0);
            }
            c0.add(c1).add(c2.add(c3)).intoArray(scores, b);
            e0.add(e1).add(e2.add(e3)).intoArray(scores, b + L);
        }
        if (b < b1) { // a last block alone, its sums in the same order
            FloatVector c0 = FloatVector.zero(F), c1 = c0, c2 = c0, c3 = c0;
            int k = kvCol * span + b, d = 0;
            for (; d + 4 <= headDim; d += 4, k += 4 * span) {
                c0 = FloatVector.fromArray(F, kt, k).fma(FloatVector.broadcast(F, scores[qs + d]), c0);
                c1 = FloatVector.fromArray(F, kt, k + span).fma(FloatVector.broadcast(F, scores[qs + d + 1]), c1);
                c2 = FloatVector.fromArray(F, kt, k + 2 * span).fma(FloatVector.broadcast(F, scores[qs + d + 2]), c2);
                c3 = FloatVector.fromArray(F, kt, k + 3 * span).fma(FloatVector.broadcast(F, scores[qs + d + 3]), c3);
            }
            for (; d < headDim; d++, k += span) c0 = FloatVector.fromArray(F, kt, k).fma(FloatVector.broadcast(F, scores[qs + d]), c0);
            c0.add(c1).add(c2.add(c3)).intoArray(scores, b);
        }
        Arrays.fill(scores, b0, first, Float.NEGATIVE_INFINITY);
        Arrays.fill(scores, last + 1, b1, Float.NEGATIVE_INFINITY);
        FloatVector maxima = FloatVector.fromArray(F, scores, b0);
        for (b = b0 + L; b < b1; b += L) maxima = maxima.max(FloatVector.fromArray(F, scores, b));
        return maxima.reduceLanes(VectorOperators.MAX); // exact in any order
    }

    /** e^(score − max) in place over the blocks that hold keys {@code first..last}, zero outside them; returns Σ e. */
    private static float exponentiate(float[] scores, int first, int last, float max, float[] lanes) {
        int b0 = first / L * L, b1 = last / L * L + L;
        for (int b = b0; b < b1; b += L) VectorMath.exp(FloatVector.fromArray(F, scores, b).sub(max)).intoArray(scores, b);
        Arrays.fill(scores, b0, first, 0f); // exp(−∞) gave VectorMath.exp's floor, not zero
        Arrays.fill(scores, last + 1, b1, 0f);
        FloatVector sums = FloatVector.zero(F);
        for (int b = b0; b < b1; b += L) sums = sums.add(FloatVector.fromArray(F, scores, b));
        sums.intoArray(lanes, 0); // summed from an array: a call taking the vector, left in place here after exp, allocated it
        return VectorMath.sumLanes(lanes, 0, L);
    }

    /** {@code att[qo..qo + headDim) = (Σ_t e[t]·v[t])·inv} over keys {@code first..last} of kv column {@code kvCol}. */
    private void mix(float[] scores, float inv, int first, int last, int from, int kvCol, float[] values, float[] att, int qo) {
        for (int j = 0; j < headDim; j += L) {
            VectorMask<Float> live = F.indexInRange(j, headDim);
            FloatVector even = FloatVector.zero(F), odd = even;
            int t = first, v = (from + first) * kvDim + kvCol + j;
            for (; t + 1 <= last; t += 2, v += 2 * kvDim) {
                even = FloatVector.fromArray(F, values, v, live).fma(FloatVector.broadcast(F, scores[t]), even);
                odd = FloatVector.fromArray(F, values, v + kvDim, live).fma(FloatVector.broadcast(F, scores[t + 1]), odd);
            }
            if (t == last) even = FloatVector.fromArray(F, values, v, live).fma(FloatVector.broadcast(F, scores[t]), even);
            even.add(odd).mul(inv).intoArray(att, qo + j, live);
        }
    }
}
