package ai.behemoth.data;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class NearDuplicatesTest {
    /** The exact Jaccard similarity of the 5-word shingle sets, computed over strings. */
    static double jaccard(String a, String b) {
        Set<String> x = shingles(a), y = shingles(b);
        Set<String> both = new HashSet<>(x);
        both.retainAll(y);
        Set<String> either = new HashSet<>(x);
        either.addAll(y);
        return (double) both.size() / either.size();
    }

    static Set<String> shingles(String text) {
        String[] w = text.toLowerCase(Locale.ROOT).trim().split("\\s+");
        Set<String> s = new HashSet<>();
        for (int i = 0; i + 5 <= w.length; i++) s.add(String.join(" ", List.of(w).subList(i, i + 5)));
        return s;
    }

    /** {@code original} with every {@code step}-th word replaced by a fresh one. */
    static String edited(List<String> original, int step, Random r) {
        List<String> w = new ArrayList<>(original);
        for (int i = step / 2; i < w.size(); i += step) w.set(i, "x" + Texts.words(r, 1).getFirst());
        return String.join(" ", w);
    }

    @Test
    void removesANearCopyKeepsAPairJustBelowTheThresholdAndKeepsTheFirst() {
        Random r = new Random(11);
        List<String> words = Texts.words(r, 1000);
        String original = String.join(" ", words);
        String near = edited(words, 100, r);   // 10 edits: about 0.9
        String below = edited(words, 31, r);   // 32 edits: about 0.72, three standard errors below 0.8
        double jNear = jaccard(original, near), jBelow = jaccard(original, below);
        assertThat(jNear).isBetween(0.88, 0.92);
        assertThat(jBelow).isBetween(0.70, 0.74);

        NearDuplicates dedup = new NearDuplicates(0.8);
        assertThat(dedup.offer(original)).as("the first occurrence is kept").isFalse();
        assertThat(dedup.offer(near)).as("J = %.3f", jNear).isTrue();
        assertThat(dedup.offer(below)).as("J = %.3f", jBelow).isFalse();
        assertThat(dedup.offer(String.join(" ", Texts.words(r, 1000)))).as("unrelated").isFalse();
        assertThat(dedup.offer(original.toUpperCase(Locale.ROOT))).as("case does not matter").isTrue();

        NearDuplicates looser = new NearDuplicates(0.6);
        looser.offer(original);
        assertThat(looser.offer(below)).as("J = %.3f at threshold 0.6", jBelow).isTrue();
    }

    /** Over many pairs: nearly all at J = 0.9 are removed, nearly none at J = 0.72 or 0.5. */
    @Test
    void theThresholdHoldsOverManyPairs() {
        Random r = new Random(13);
        int pairs = 100, nearRemoved = 0, belowRemoved = 0, farRemoved = 0;
        for (int i = 0; i < pairs; i++) {
            List<String> words = Texts.words(r, 1000);
            String original = String.join(" ", words);
            String[] others = {edited(words, 100, r), edited(words, 31, r), edited(words, 15, r)};
            int[] removed = new int[3];
            for (int k = 0; k < 3; k++) {
                NearDuplicates dedup = new NearDuplicates(0.8);
                dedup.offer(original);
                if (dedup.offer(others[k])) removed[k]++;
            }
            nearRemoved += removed[0];
            belowRemoved += removed[1];
            farRemoved += removed[2];
        }
        assertThat(nearRemoved).as("pairs at J = 0.9 removed").isGreaterThanOrEqualTo(98);
        assertThat(belowRemoved).as("pairs at J = 0.72 removed").isLessThanOrEqualTo(2);
        assertThat(farRemoved).as("pairs at J = 0.5 removed").isZero();
    }

    @Test
    void signaturesEstimateJaccardSimilarity() {
        Random r = new Random(5);
        NearDuplicates d = new NearDuplicates(0.8);
        List<String> words = Texts.words(r, 600);
        String original = String.join(" ", words);
        for (int step : new int[]{4, 8, 16, 40, 200}) {
            String other = edited(words, step, r);
            double estimate = NearDuplicates.similarity(d.signature(original), d.signature(other));
            // the standard error of a 256-minimum estimate is at most 0.031: allow three
            assertThat(estimate).as("step %d", step).isCloseTo(jaccard(original, other), within(0.095));
        }
    }

    @Test
    void sameSeedsSameSignatures() {
        String text = Texts.line(new Random(2), 200);
        assertThat(new NearDuplicates(0.8).signature(text)).isEqualTo(new NearDuplicates(0.5).signature(text));
    }

    @Test
    void bandsCatchAPairAtTheThresholdAlmostSurely() {
        for (double t : new double[]{0.5, 0.7, 0.8, 0.9, 0.95}) {
            int rows = NearDuplicates.bandRows(t), bands = NearDuplicates.PERMUTATIONS / rows;
            assertThat(1 - Math.pow(1 - Math.pow(t, rows), bands)).as("threshold %s", t).isGreaterThanOrEqualTo(0.999);
            int wider = rows + 1, widerBands = NearDuplicates.PERMUTATIONS / wider;
            assertThat(1 - Math.pow(1 - Math.pow(t, wider), widerBands)).as("threshold %s, one row more", t).isLessThan(0.999);
        }
    }
}
