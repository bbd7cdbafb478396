package ai.behemoth.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.function.IntConsumer;

/**
 * Learns byte-level BPE merges from text, the way the Hugging Face trainer does: count the
 * distinct pre-tokens ("words") once, count adjacent token pairs weighted by word frequency, and
 * repeatedly merge the most frequent pair. A merge only touches the words that contain the pair
 * (an index from pair to words), and updates the pair counts by difference; a priority queue with
 * lazily discarded stale entries finds the next pair. Ties go to the smaller (left, right) ids, so
 * training is deterministic.
 */
final class BpeTrainer {
    private BpeTrainer() {}

    /** A pair and its count when it was queued; stale once the pair's count has changed. */
    private record Candidate(long count, int left, int right) {}

    private static final Comparator<Candidate> MOST_FREQUENT_FIRST =
            Comparator.comparingLong((Candidate c) -> -c.count)
                    .thenComparingInt(Candidate::left)
                    .thenComparingInt(Candidate::right);

    static BpeTokenizer train(String text, int vocabSize, IntConsumer progress) {
        BpeTokenizer.checkVocabSize(vocabSize);
        int mergedVocab = vocabSize - BpeTokenizer.SPECIAL_TOKENS.size();

        // Distinct pre-tokens and how often each occurs, in a fixed (sorted) order.
        Map<String, long[]> frequency = new HashMap<>();
        PreTokenizer.split(text, (start, end) -> frequency.computeIfAbsent(text.substring(start, end), w -> new long[1])[0]++);
        String[] distinct = frequency.keySet().toArray(String[]::new);
        Arrays.sort(distinct);
        int wordCount = distinct.length;
        int[][] words = new int[wordCount][];
        int[] lengths = new int[wordCount];
        long[] counts = new long[wordCount];
        for (int w = 0; w < wordCount; w++) {
            byte[] bytes = distinct[w].getBytes(StandardCharsets.UTF_8);
            words[w] = new int[bytes.length];
            for (int i = 0; i < bytes.length; i++) words[w][i] = bytes[i] & 0xff;
            lengths[w] = bytes.length;
            counts[w] = frequency.get(distinct[w])[0];
        }

        // Token bytes by id: the 256 bytes first, id = byte value.
        List<byte[]> tokens = new ArrayList<>();
        Map<String, Integer> idOfBytes = new HashMap<>();
        for (int b = 0; b < 256; b++) {
            tokens.add(new byte[]{(byte) b});
            idOfBytes.put(String.valueOf(ByteLevel.symbol(b)), b);
        }

        // Pair counts, and for each pair the words it occurs in (may hold stale or repeated entries).
        PairMap pairCounts = new PairMap(1 << 16);
        PairMap pairSlot = new PairMap(1 << 16);
        List<IntList> wordsOfPair = new ArrayList<>();
        for (int w = 0; w < wordCount; w++) {
            int[] s = words[w];
            for (int i = 0; i + 1 < lengths[w]; i++) {
                long key = PairMap.key(s[i], s[i + 1]);
                pairCounts.add(key, counts[w]);
                wordsOf(key, pairSlot, wordsOfPair).addUnlessLast(w);
            }
        }
        PriorityQueue<Candidate> queue = new PriorityQueue<>(MOST_FREQUENT_FIRST);
        for (IntList list : wordsOfPair) {
            long key = list.pair;
            queue.add(new Candidate(pairCounts.get(key, 0), PairMap.left(key), PairMap.right(key)));
        }

        List<int[]> merges = new ArrayList<>();
        int[] visitedAtMerge = new int[wordCount];
        Arrays.fill(visitedAtMerge, -1);
        PairMap delta = new PairMap(1 << 12);
        long[] touchedKeys = new long[16];

        while (tokens.size() < mergedVocab && !queue.isEmpty()) {
            Candidate top = queue.poll();
            long pair = PairMap.key(top.left, top.right);
            if (top.count != pairCounts.get(pair, 0) || top.count == 0) continue;

            byte[] mergedBytes = BpeTokenizer.concat(tokens.get(top.left), tokens.get(top.right));
            String mergedKey = ByteLevel.encode(mergedBytes);
            Integer existing = idOfBytes.get(mergedKey);
            int id = existing != null ? existing : tokens.size();
            if (existing == null) {
                tokens.add(mergedBytes);
                idOfBytes.put(mergedKey, id);
            }
            int mergeIndex = merges.size();
            merges.add(new int[]{top.left, top.right});

            // Rewrite each word that holds the pair; record the change in pair counts.
            int touchedCount = 0;
            IntList holders = wordsOf(pair, pairSlot, wordsOfPair);
            for (int h = 0; h < holders.size; h++) {
                int w = holders.values[h];
                if (visitedAtMerge[w] == mergeIndex) continue;
                visitedAtMerge[w] = mergeIndex;
                int[] s = words[w];
                int n = lengths[w];
                if (!contains(s, n, top.left, top.right)) continue;
                long c = counts[w];
                for (int i = 0; i + 1 < n; i++) {
                    long key = PairMap.key(s[i], s[i + 1]);
                    if (delta.add(key, -c) == -c) touchedKeys = remember(touchedKeys, touchedCount++, key);
                }
                int out = 0;
                for (int i = 0; i < n; ) {
                    if (i + 1 < n && s[i] == top.left && s[i + 1] == top.right) {
                        s[out++] = id;
                        i += 2;
                    } else {
                        s[out++] = s[i++];
                    }
                }
                lengths[w] = n = out;
                for (int i = 0; i + 1 < n; i++) {
                    long key = PairMap.key(s[i], s[i + 1]);
                    if (delta.add(key, c) == c) touchedKeys = remember(touchedKeys, touchedCount++, key);
                    if (s[i] == id || s[i + 1] == id) wordsOf(key, pairSlot, wordsOfPair).addUnlessLast(w);
                }
            }
            // Requeue every pair whose count changed, and reset the deltas for the next merge.
            for (int t = 0; t < touchedCount; t++) {
                long key = touchedKeys[t];
                long d = delta.get(key, 0);
                if (d == 0) continue;
                delta.put(key, 0);
                long count = pairCounts.add(key, d);
                if (count > 0) queue.add(new Candidate(count, PairMap.left(key), PairMap.right(key)));
            }
            progress.accept(tokens.size());
        }

        Map<String, Integer> specials = new LinkedHashMap<>();
        for (String special : BpeTokenizer.SPECIAL_TOKENS) {
            specials.put(special, tokens.size());
            tokens.add(special.getBytes(StandardCharsets.UTF_8));
        }
        int[] left = new int[merges.size()], right = new int[merges.size()];
        for (int m = 0; m < merges.size(); m++) {
            left[m] = merges.get(m)[0];
            right[m] = merges.get(m)[1];
        }
        return new BpeTokenizer(tokens.toArray(byte[][]::new), left, right, specials, false);
    }

    private static boolean contains(int[] s, int n, int left, int right) {
        for (int i = 0; i + 1 < n; i++) if (s[i] == left && s[i + 1] == right) return true;
        return false;
    }

    private static long[] remember(long[] keys, int index, long key) {
        if (index == keys.length) keys = Arrays.copyOf(keys, keys.length * 2);
        keys[index] = key;
        return keys;
    }

    private static IntList wordsOf(long pair, PairMap pairSlot, List<IntList> wordsOfPair) {
        long slot = pairSlot.get(pair, -1);
        if (slot >= 0) return wordsOfPair.get((int) slot);
        IntList list = new IntList(pair);
        pairSlot.put(pair, wordsOfPair.size());
        wordsOfPair.add(list);
        return list;
    }

    /** The word indices of one pair. */
    private static final class IntList {
        final long pair;
        int[] values = new int[4];
        int size;

        IntList(long pair) {
            this.pair = pair;
        }

        void addUnlessLast(int value) {
            if (size > 0 && values[size - 1] == value) return;
            if (size == values.length) values = Arrays.copyOf(values, size * 2);
            values[size++] = value;
        }
    }
}
