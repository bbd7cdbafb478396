package ai.behemoth.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Near-duplicate detection with MinHash over word shingles and locality-sensitive hashing
 * (Broder 1997; Leskovec, Rajaraman and Ullman, "Mining of Massive Datasets", ch. 3). Documents
 * are offered in order; one whose estimated Jaccard similarity to an earlier kept document
 * reaches the threshold is a duplicate, so the first occurrence is kept.
 *
 * <p>The signature has {@link #PERMUTATIONS} minima, each over the shingles' 64-bit hashes mapped
 * by a seeded affine function {@code a*h + b} (mod 2^64, {@code a} odd, so a bijection) and cut
 * to their high 32 bits to halve the memory; the seeds come from a fixed generator, so results
 * never vary between runs. The threshold applies to an estimate: a pair three standard errors
 * (about 0.08 at J = 0.75) below it is almost never removed, one just below it sometimes is. The signature is cut
 * into bands of {@code rows} minima; two documents that agree on a whole band become candidates,
 * and a candidate is a duplicate when the share of agreeing minima reaches the threshold. The band
 * width is the widest that still makes a pair at the threshold a candidate with probability at
 * least 0.999, so that LSH almost never hides a true duplicate.
 */
public final class NearDuplicates {
    /** Minima per signature: the estimate's standard error is sqrt(J(1-J)/256), at most 0.031. */
    public static final int PERMUTATIONS = 256;
    /** Words per shingle: 5, as in Gopher's and RefinedWeb's fuzzy deduplication. */
    public static final int SHINGLE_WORDS = 5;
    private static final long SEED = 0x5eed_b0b0_cafeL;

    private final double threshold;
    private final int rows, bands;
    private final long[] multipliers = new long[PERMUTATIONS], offsets = new long[PERMUTATIONS];
    private final List<int[]> kept = new ArrayList<>();
    private final List<Map<Long, List<Integer>>> buckets = new ArrayList<>();

    public NearDuplicates(double threshold) {
        if (!(threshold > 0 && threshold <= 1))
            throw new IllegalArgumentException("near-duplicate threshold " + threshold + " is not in (0, 1]");
        this.threshold = threshold;
        this.rows = bandRows(threshold);
        this.bands = PERMUTATIONS / rows;
        SplittableRandom random = new SplittableRandom(SEED);
        for (int i = 0; i < PERMUTATIONS; i++) {
            multipliers[i] = random.nextLong() | 1;
            offsets[i] = random.nextLong();
        }
        for (int b = 0; b < bands; b++) buckets.add(new HashMap<>());
    }

    /** The widest band whose chance of catching a pair at the threshold is at least 0.999. */
    static int bandRows(double threshold) {
        int best = 1;
        for (int r = 1; r <= PERMUTATIONS; r++) {
            int b = PERMUTATIONS / r;
            double caught = 1 - Math.pow(1 - Math.pow(threshold, r), b);
            if (caught >= 0.999) best = r;
        }
        return best;
    }

    /**
     * True when {@code text} nearly duplicates a document kept earlier; otherwise it is kept
     * (remembered) and false is returned. A text without words is never a duplicate.
     */
    public boolean offer(String text) {
        int[] signature = signature(text);
        if (signature == null) return false;
        for (int b = 0; b < bands; b++) {
            List<Integer> candidates = buckets.get(b).get(bandKey(signature, b));
            if (candidates == null) continue;
            for (int id : candidates) {
                if (similarity(signature, kept.get(id)) >= threshold) return true;
            }
        }
        int id = kept.size();
        kept.add(signature);
        for (int b = 0; b < bands; b++) buckets.get(b).computeIfAbsent(bandKey(signature, b), k -> new ArrayList<>()).add(id);
        return false;
    }

    /** The MinHash signature of the lower-cased word shingles, or null when there are no words. */
    int[] signature(String text) {
        List<String> words = Words.split(text.toLowerCase(Locale.ROOT));
        if (words.isEmpty()) return null;
        long[] wordHashes = new long[words.size()];
        for (int i = 0; i < wordHashes.length; i++) wordHashes[i] = Words.hash(words.get(i));
        int width = Math.min(SHINGLE_WORDS, words.size());
        int[] signature = new int[PERMUTATIONS];
        Arrays.fill(signature, Integer.MAX_VALUE);
        for (int i = 0; i + width <= wordHashes.length; i++) {
            long shingle = Words.hash(wordHashes, i, width);
            for (int p = 0; p < PERMUTATIONS; p++) signature[p] = Math.min(signature[p], (int) ((multipliers[p] * shingle + offsets[p]) >>> 32));
        }
        return signature;
    }

    /** The share of equal minima: an unbiased estimate of the Jaccard similarity of the shingle sets. */
    static double similarity(int[] a, int[] b) {
        int equal = 0;
        for (int i = 0; i < a.length; i++) if (a[i] == b[i]) equal++;
        return (double) equal / a.length;
    }

    private long bandKey(int[] signature, int band) {
        long h = band;
        for (int i = band * rows; i < (band + 1) * rows; i++) h = h * 0x9e3779b97f4a7c15L + signature[i];
        return Words.mix(h);
    }
}
