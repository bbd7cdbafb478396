package ai.behemoth.generate;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Sampler statistics over many draws, and the exact effect of each penalty. */
class SamplerTest {
    private static final int DRAWS = 20_000;

    private static float[] randomLogits(long seed, int v) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] l = new float[v];
        for (int i = 0; i < v; i++) l[i] = (float) (r.nextGaussian() * 2);
        return l;
    }

    /** Token ids by descending logit. */
    private static int[] ranking(float[] logits) {
        return IntStream.range(0, logits.length).boxed()
                .sorted((a, b) -> Float.compare(logits[b], logits[a])).mapToInt(Integer::intValue).toArray();
    }

    private static int[] counts(GenerateOptions o, float[] logits, long seed) {
        Sampler s = new Sampler(o, seed);
        int[] counts = new int[logits.length];
        for (int i = 0; i < DRAWS; i++) counts[s.sample(logits.clone(), new int[0], 0)]++;
        return counts;
    }

    private static GenerateOptions plain(double temperature) {
        return new GenerateOptions(16, temperature, 0, 1, 0, 1, 0, 0, 64, 1L, List.of());
    }

    @Test
    void temperatureZeroIsGreedy() {
        float[] logits = randomLogits(1, 50);
        int best = ranking(logits)[0];
        Sampler s = new Sampler(plain(0).withTopK(0), 5);
        for (int i = 0; i < 100; i++) assertThat(s.sample(logits.clone(), new int[0], 0)).isEqualTo(best);
    }

    @Test
    void topKNeverEmitsExcludedTokens() {
        float[] logits = randomLogits(2, 40);
        int[] rank = ranking(logits);
        int[] counts = counts(plain(1.5).withTopK(5), logits, 3);
        for (int r = 5; r < rank.length; r++) assertThat(counts[rank[r]]).as("rank %d", r).isZero();
        for (int r = 0; r < 5; r++) assertThat(counts[rank[r]]).as("rank %d", r).isPositive();
    }

    @Test
    void topKOfALargeVocabularyKeepsExactlyTheKBest() {
        float[] logits = randomLogits(12, 5000);
        logits[4321] = logits[ranking(logits)[49]]; // a tie at the boundary: the lower id wins
        int[] rank = ranking(logits); // a stable sort: of two equal logits, the lower id ranks first
        Set<Integer> best = new HashSet<>();
        for (int r = 0; r < 50; r++) best.add(rank[r]);
        int[] counts = counts(plain(1000).withTopK(50), logits, 13); // near-uniform over the kept tokens
        for (int i = 0; i < logits.length; i++) {
            if (best.contains(i)) assertThat(counts[i]).as("token %d", i).isPositive();
            else assertThat(counts[i]).as("token %d", i).isZero();
        }
    }

    @Test
    void topPKeepsTheSmallestNucleus() {
        float[] logits = randomLogits(4, 30);
        int[] rank = ranking(logits);
        double[] p = softmax(logits);
        double cumulative = 0;
        int nucleus = 0;
        while (cumulative < 0.6) cumulative += p[rank[nucleus++]];
        int[] counts = counts(plain(1).withTopP(0.6), logits, 7);
        for (int r = nucleus; r < rank.length; r++) assertThat(counts[rank[r]]).as("rank %d", r).isZero();
        for (int r = 0; r < nucleus; r++) assertThat(counts[rank[r]]).as("rank %d", r).isPositive();
        // Inside the nucleus the frequencies follow the renormalised probabilities.
        double mass = 0;
        for (int r = 0; r < nucleus; r++) mass += p[rank[r]];
        assertThat(counts[rank[0]] / (double) DRAWS).isCloseTo(p[rank[0]] / mass, within(0.02));
    }

    @Test
    void minPDropsTokensBelowTheThreshold() {
        float[] logits = randomLogits(5, 30);
        double[] p = softmax(logits);
        double max = Arrays.stream(p).max().orElseThrow();
        int[] counts = counts(plain(1).withMinP(0.2), logits, 9);
        for (int i = 0; i < p.length; i++) {
            if (p[i] < 0.2 * max) assertThat(counts[i]).as("token %d", i).isZero();
            else assertThat(counts[i]).as("token %d", i).isPositive();
        }
    }

    @Test
    void plainSamplingFollowsTheSoftmaxAtTheTemperature() {
        float[] logits = {1f, 2f, 0f, 1.5f};
        double t = 0.7;
        float[] scaled = new float[4];
        for (int i = 0; i < 4; i++) scaled[i] = (float) (logits[i] / t);
        double[] p = softmax(scaled);
        int[] counts = counts(plain(t), logits, 11);
        for (int i = 0; i < 4; i++) assertThat(counts[i] / (double) DRAWS).as("token %d", i).isCloseTo(p[i], within(0.015));
    }

    @Test
    void sameSeedSameDraws() {
        float[] logits = randomLogits(6, 64);
        GenerateOptions o = plain(1.2).withTopK(20);
        Sampler a = new Sampler(o, 42), b = new Sampler(o, 42), c = new Sampler(o, 43);
        int[] da = new int[200], db = new int[200], dc = new int[200];
        for (int i = 0; i < 200; i++) {
            da[i] = a.sample(logits.clone(), new int[0], 0);
            db[i] = b.sample(logits.clone(), new int[0], 0);
            dc[i] = c.sample(logits.clone(), new int[0], 0);
        }
        assertThat(da).containsExactly(db);
        assertThat(da).isNotEqualTo(dc);
    }

    @Test
    void penaltiesChangeSeenLogitsAsDefined() {
        float[] logits = {2f, -1f, 0.5f, 3f, -2f};
        int[] context = {9, 0, 1, 0, 0, 3}; // the 9 falls outside a window of 5
        GenerateOptions o = plain(0).withRepeatPenalty(2).withPresencePenalty(0.25).withFrequencyPenalty(0.1).withPenaltyWindow(5);
        new Sampler(o, 1).applyPenalties(logits, context, context.length);
        assertThat(logits[0]).isCloseTo(2f / 2 - 0.25f - 0.1f * 3, within(1e-6f));
        assertThat(logits[1]).isCloseTo(-1f * 2 - 0.25f - 0.1f, within(1e-6f));
        assertThat(logits[2]).isEqualTo(0.5f);
        assertThat(logits[3]).isCloseTo(3f / 2 - 0.25f - 0.1f, within(1e-6f));
        assertThat(logits[4]).isEqualTo(-2f);
    }

    @Test
    void repeatPenaltyTurnsGreedyAwayFromARepeatedToken() {
        float[] logits = {1f, 0.8f, 0.1f};
        GenerateOptions o = plain(0).withRepeatPenalty(1.5);
        assertThat(new Sampler(o, 1).sample(logits.clone(), new int[]{0}, 1)).isEqualTo(1);
        assertThat(new Sampler(o, 1).sample(logits.clone(), new int[]{2}, 1)).isEqualTo(0);
    }

    @Test
    void badOptionsNameTheOption() {
        assertThatThrownBy(() -> GenerateOptions.defaults().withTopP(0)).hasMessageContaining("top-p");
        assertThatThrownBy(() -> GenerateOptions.defaults().withTemperature(-1)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> GenerateOptions.defaults().withMaxTokens(0)).hasMessageContaining("max-tokens");
        assertThatThrownBy(() -> GenerateOptions.defaults().withMinP(1)).hasMessageContaining("min-p");
        assertThatThrownBy(() -> GenerateOptions.defaults().withStop(List.of(""))).hasMessageContaining("stop");
    }

    private static double[] softmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float l : logits) max = Math.max(max, l);
        double[] p = new double[logits.length];
        for (int i = 0; i < p.length; i++) sum += p[i] = Math.exp(logits[i] - max);
        for (int i = 0; i < p.length; i++) p[i] /= sum;
        return p;
    }

    /**
     * One sampler kept for a whole generation (its penalty window and ranking buffers reused) picks
     * the same tokens as a fresh sampler each step: nothing of an earlier, longer or shorter, window
     * leaks into the next.
     */
    @Test
    void aSamplerReusedAcrossStepsPicksLikeAFreshOne() {
        GenerateOptions o = plain(0).withRepeatPenalty(1.3).withFrequencyPenalty(0.2).withPenaltyWindow(6);
        SplittableRandom random = new SplittableRandom(7);
        int vocab = 12;
        int[] context = new int[40];
        Sampler kept = new Sampler(o, 1);
        int distinct = 0;
        for (int length = 1; length < context.length; length++) {
            float[] logits = new float[vocab];
            for (int i = 0; i < vocab; i++) logits[i] = (float) random.nextGaussian();
            int reused = kept.sample(logits.clone(), context, length);
            int fresh = new Sampler(o, 1).sample(logits.clone(), context, length);
            assertThat(reused).as("step %d", length).isEqualTo(fresh);
            if (reused != Sampler.argmax(logits.clone())) distinct++;
            context[length] = reused;
        }
        assertThat(distinct).as("steps where the penalties changed the greedy pick").isPositive();
    }
}
