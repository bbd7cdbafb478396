package ai.behemoth.model;

import ai.behemoth.tensor.Parallel;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Prefill attention against softmax attention computed in double: rows that continue a sequence
 * already holding keys, grouped-query heads, a head width that is no multiple of the vector length
 * (22: a masked last vector and two depths after the groups of four), Llama 4's chunks (keys from
 * the chunk's start) and query temperature; the same bits at any thread count.
 */
class PrefillAttentionTest {
    @Test
    void matchesSoftmaxAttentionInDouble() {
        int heads = 6, kvHeads = 2, headDim = 22, qDim = heads * headDim, kvDim = kvHeads * headDim;
        int held = 19, n = 37, layer = 1;
        SplittableRandom random = new SplittableRandom(17);
        int threadsBefore = Parallel.threads();
        try {
            for (AttentionScope scope : new AttentionScope[]{AttentionScope.FULL, new AttentionScope(16, 0, 0), new AttentionScope(0, 8, 0.3)}) {
                Sequence seq = new Sequence(2, 100, kvDim);
                seq.reserve(held + n);
                seq.length = held;
                for (int i = 0; i < (held + n) * kvDim; i++) {
                    seq.keys[layer][i] = (float) random.nextGaussian();
                    seq.values[layer][i] = (float) random.nextGaussian();
                }
                Batch batch = new Batch(n, 10);
                for (int r = 0; r < n; r++) batch.add(seq, 0, false);
                float[] q = new float[n * qDim];
                for (int i = 0; i < q.length; i++) q[i] = (float) (2 * random.nextGaussian());
                float scale = (float) (1 / Math.sqrt(headDim));

                float[] first = null;
                for (int threads : new int[]{1, 3}) {
                    Parallel.setThreads(threads);
                    float[] att = new float[n * qDim + 1];
                    att[n * qDim] = 7f;
                    new PrefillAttention(heads, kvHeads, headDim).attend(layer, batch, n, q, att, scope, scale);
                    assertThat(att[n * qDim]).as("past the last row").isEqualTo(7f);
                    if (first == null) first = att;
                    assertThat(att).as("%s, %d threads against 1", scope, threads).isEqualTo(first);
                }
                for (int r = 0; r < n; r++) {
                    int pos = held + r;
                    for (int h = 0; h < heads; h++) {
                        int kvh = h / (heads / kvHeads), qo = r * qDim + h * headDim;
                        double qs = scale * scope.queryScale(pos);
                        double[] p = new double[pos + 1];
                        double max = Double.NEGATIVE_INFINITY, sum = 0;
                        for (int t = scope.firstKey(pos); t <= pos; t++) {
                            for (int d = 0; d < headDim; d++) p[t] += qs * q[qo + d] * seq.keys[layer][t * kvDim + kvh * headDim + d];
                            max = Math.max(max, p[t]);
                        }
                        for (int t = scope.firstKey(pos); t <= pos; t++) sum += p[t] = Math.exp(p[t] - max);
                        for (int d = 0; d < headDim; d++) {
                            double expected = 0;
                            for (int t = scope.firstKey(pos); t <= pos; t++) expected += p[t] / sum * seq.values[layer][t * kvDim + kvh * headDim + d];
                            assertThat((double) first[qo + d]).as("%s row %d head %d dim %d", scope, r, h, d).isCloseTo(expected, within(2e-5));
                        }
                    }
                }
            }
        } finally {
            Parallel.setThreads(threadsBefore);
        }
    }
}
