package ai.behemoth.train;

import ai.behemoth.model.AttentionScope;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Tiled causal GQA attention against a double-precision reference: the output, the logsumexp it
 * keeps, and the q/k/v gradient of {@code Σ out·G} against central finite differences. Shapes cover
 * head widths below, equal to and above one vector, sequence lengths that are not multiples of the
 * vector or tile, and sequences of several key tiles (so the online softmax rescales); and Llama 4's
 * chunked attention, with chunks inside a tile, across tiles, and long enough that a query block's
 * rows see nothing in the tiles before their own chunk.
 */
class FlashAttentionTest {

    @Test
    void narrowHeadsWithGqaShortSequence() {
        check(2, 4, 2, 4, 5);
    }

    @Test
    void sixteenWideHeadsOneKvHeadOddLength() {
        check(2, 4, 1, 16, 19);
    }

    @Test
    void thirtyTwoWideHeadsLongerThanTwoVectors() {
        check(1, 2, 2, 32, 37);
    }

    @Test
    void headWidthNotAMultipleOfFour() { // the key and value transposes copy four dimensions at a time, then the rest
        check(2, 2, 1, 6, 21);
    }

    @Test
    void threeKeyTilesWithGqa() {
        check(1, 2, 1, 8, 260);
    }

    @Test
    void exactlyOneKeyTilePlusOneRow() {
        check(1, 2, 1, 16, 129);
    }

    @Test
    void chunksOfFourWithinTilesAndVectors() {
        check(2, 4, 2, 4, 19, 4);
    }

    @Test
    void chunksOfElevenAcrossVectors() {
        check(1, 4, 1, 16, 37, 11);
    }

    @Test
    void oneChunkAsLongAsTheSequenceIsFullAttention() {
        check(1, 2, 2, 8, 9, 9);
    }

    @Test
    void chunksAcrossKeyTilesLeaveSomeRowsNothingInTheFirstTwoTiles() {
        check(1, 2, 1, 8, 310, 300);
    }

    @Test
    void chunksAlignedWithKeyTiles() {
        check(1, 2, 1, 8, 270, 128);
    }

    private static void check(int batch, int heads, int kvHeads, int hd, int seq) {
        check(batch, heads, kvHeads, hd, seq, 0);
    }

    private static void check(int batch, int heads, int kvHeads, int hd, int seq, int chunk) {
        int stride = (heads + 2 * kvHeads) * hd, qDim = heads * hd, n = batch * seq;
        SplittableRandom random = new SplittableRandom(hd * 31L + seq);
        float[] qkv = new float[n * stride], g = new float[n * qDim];
        for (int i = 0; i < qkv.length; i++) qkv[i] = (float) random.nextGaussian();
        for (int i = 0; i < g.length; i++) g[i] = (float) random.nextGaussian();
        // a larger model instance than the call, as in training with a short last batch
        FlashAttention attention = new FlashAttention(heads, kvHeads, hd, seq + 3);
        float[] lse = new float[attention.lseSize(batch + 1)], out = new float[n * qDim], dqkv = new float[n * stride];
        AttentionScope scope = new AttentionScope(chunk, 0, 0);
        attention.forward(qkv, out, lse, batch, seq, scope);
        attention.backward(g, qkv, out, lse, dqkv, batch, seq, scope);

        double[] x = new double[qkv.length];
        for (int i = 0; i < x.length; i++) x[i] = qkv[i];
        double[] refLse = new double[batch * heads * seq];
        double[] ref = reference(x, batch, seq, heads, kvHeads, hd, chunk, refLse);
        for (int i = 0; i < out.length; i++) assertThat((double) out[i]).isCloseTo(ref[i], org.assertj.core.data.Offset.offset(2e-5));
        for (int i = 0; i < refLse.length; i++) assertThat((double) lse[i]).isCloseTo(refLse[i], org.assertj.core.data.Offset.offset(1e-5 * Math.max(1, Math.abs(refLse[i]))));

        // finite differences on about 200 entries spread over all of q, k and v
        double h = 1e-4, errSq = 0, normSq = 0;
        for (int i = random.nextInt(1 + x.length / 200); i < x.length; i += 1 + x.length / 200) {
            double saved = x[i];
            x[i] = saved + h;
            double up = dot(reference(x, batch, seq, heads, kvHeads, hd, chunk, null), g);
            x[i] = saved - h;
            double down = dot(reference(x, batch, seq, heads, kvHeads, hd, chunk, null), g);
            x[i] = saved;
            double fd = (up - down) / (2 * h), diff = dqkv[i] - fd;
            errSq += diff * diff;
            normSq += fd * fd;
        }
        assertThat(Math.sqrt(errSq / normSq)).as("relative gradient error").isLessThan(1e-4);
    }

    private static double dot(double[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /**
     * softmax(q·kᵀ/√hd, causal)·v per batch and head, in double, directly from the definition; with
     * {@code chunk > 0} the query at t sees only the keys u with {@code u / chunk == t / chunk}; with
     * {@code lse} non-null, also the log of each row's softmax denominator {@code [B, H, T]}.
     */
    private static double[] reference(double[] qkv, int batch, int seq, int heads, int kvHeads, int hd, int chunk, double[] lse) {
        int stride = (heads + 2 * kvHeads) * hd, qDim = heads * hd;
        double[] out = new double[batch * seq * qDim];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int kv = h / (heads / kvHeads);
                int qo = h * hd, ko = qDim + kv * hd, vo = qDim + kvHeads * hd + kv * hd;
                for (int t = 0; t < seq; t++) {
                    double[] w = new double[t + 1];
                    double max = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int u = 0; u <= t; u++) {
                        double s = 0;
                        for (int d = 0; d < hd; d++) s += qkv[(b * seq + t) * stride + qo + d] * qkv[(b * seq + u) * stride + ko + d];
                        w[u] = s / Math.sqrt(hd);
                        max = Math.max(max, w[u]);
                    }
                    for (int u = 0; u <= t; u++) if (visible(chunk, t, u)) sum += w[u] = Math.exp(w[u] - max);
                    if (lse != null) lse[(b * heads + h) * seq + t] = max + Math.log(sum);
                    for (int u = 0; u <= t; u++)
                        if (visible(chunk, t, u)) for (int d = 0; d < hd; d++)
                            out[(b * seq + t) * qDim + qo + d] += w[u] / sum * qkv[(b * seq + u) * stride + vo + d];
                }
            }
        }
        return out;
    }

    private static boolean visible(int chunk, int t, int u) {
        return chunk == 0 || u / chunk == t / chunk;
    }
}
