package ai.behemoth.serve;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Log-probabilities against a plain reference: log-softmax in double, then a full sort. */
class LogprobsTest {
    @Test
    void matchesLogSoftmaxAndAFullSort() {
        SplittableRandom random = new SplittableRandom(3);
        float[] logits = new float[300];
        for (int i = 0; i < logits.length; i++) logits[i] = (float) (random.nextGaussian() * 4);
        logits[17] = logits[42]; // a tie: the lower id ranks first
        logits[250] = Float.NEGATIVE_INFINITY; // a padding id

        double max = Double.NEGATIVE_INFINITY, sum = 0;
        for (float l : logits) max = Math.max(max, l);
        for (float l : logits) sum += Math.exp(l - max);
        double logZ = max + Math.log(sum);
        int[] order = IntStream.range(0, logits.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -logits[i]).thenComparing(i -> i)).mapToInt(i -> i).toArray();

        float[] buffer = new float[logits.length];
        Arrays.fill(buffer, 99f); // what an earlier token left in the reused buffer
        Logprobs.Entry entry = Logprobs.before(logits.clone(), 20, buffer);
        for (int r = 0; r < 20; r++) {
            assertThat(entry.topIds()[r]).as("rank %d", r).isEqualTo(order[r]);
            assertThat((double) entry.topLogprob()[r]).isCloseTo(logits[order[r]] - logZ, within(1e-5));
        }
        Logprobs.Entry chosen = entry.chosen(123);
        assertThat(chosen.id()).isEqualTo(123);
        assertThat((double) chosen.logprob()).isCloseTo(logits[123] - logZ, within(1e-5));
        assertThat(Logprobs.before(logits, 0, buffer).topIds()).isEmpty();
    }
}
