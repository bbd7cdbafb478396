package ai.behemoth.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Reference twins for the BPE trainer and encoder, written the slow obvious way: the trainer
 * recounts every pair of every word before each merge; the encoder (GPT-2's original loop) finds
 * the lowest-rank adjacent pair and merges all its occurrences, left to right, until none is left.
 */
final class NaiveBpe {
    private NaiveBpe() {}

    /** The merges (as pairs of byte strings) the trainer should learn: most frequent pair first, ties to smaller ids. */
    static List<int[]> trainMerges(String text, int mergedVocab) {
        Map<String, Long> frequency = new TreeMap<>();
        for (String piece : PreTokenizer.split(text)) frequency.merge(piece, 1L, Long::sum);
        List<List<Integer>> words = new ArrayList<>();
        List<Long> counts = new ArrayList<>();
        for (Map.Entry<String, Long> e : frequency.entrySet()) {
            List<Integer> symbols = new ArrayList<>();
            for (byte b : e.getKey().getBytes(StandardCharsets.UTF_8)) symbols.add(b & 0xff);
            words.add(symbols);
            counts.add(e.getValue());
        }
        List<byte[]> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) tokens.add(new byte[]{(byte) b});
        List<int[]> merges = new ArrayList<>();
        while (tokens.size() < mergedVocab) {
            Map<List<Integer>, Long> pairCounts = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<Integer> s = words.get(w);
                for (int i = 0; i + 1 < s.size(); i++) pairCounts.merge(List.of(s.get(i), s.get(i + 1)), counts.get(w), Long::sum);
            }
            List<Integer> best = null;
            long bestCount = 0;
            for (Map.Entry<List<Integer>, Long> e : pairCounts.entrySet()) {
                List<Integer> p = e.getKey();
                long c = e.getValue();
                boolean better = c > bestCount || (c == bestCount && best != null
                        && (p.get(0) < best.get(0) || (p.get(0).equals(best.get(0)) && p.get(1) < best.get(1))));
                if (better) {
                    best = p;
                    bestCount = c;
                }
            }
            if (best == null) break;
            byte[] merged = BpeTokenizer.concat(tokens.get(best.get(0)), tokens.get(best.get(1)));
            int id = -1;
            for (int t = 0; t < tokens.size(); t++) if (Arrays.equals(tokens.get(t), merged)) id = t;
            if (id < 0) {
                id = tokens.size();
                tokens.add(merged);
            }
            merges.add(new int[]{best.get(0), best.get(1)});
            for (List<Integer> s : words) replaceAll(s, best.get(0), best.get(1), id);
        }
        return merges;
    }

    /**
     * GPT-2's encoder: each pre-token on its own; while some adjacent pair has a merge, merge every
     * occurrence of the lowest-rank one. {@code merges} are {left, right, result} in rank order;
     * byte b is token b.
     */
    static int[] encode(String text, List<int[]> merges) {
        Map<List<Integer>, Integer> rankOf = new HashMap<>();
        for (int rank = merges.size() - 1; rank >= 0; rank--) rankOf.put(List.of(merges.get(rank)[0], merges.get(rank)[1]), rank);
        List<Integer> ids = new ArrayList<>();
        for (String piece : PreTokenizer.split(text)) {
            List<Integer> s = new ArrayList<>();
            for (byte b : piece.getBytes(StandardCharsets.UTF_8)) s.add(b & 0xff);
            while (true) {
                int best = Integer.MAX_VALUE;
                for (int i = 0; i + 1 < s.size(); i++) best = Math.min(best, rankOf.getOrDefault(List.of(s.get(i), s.get(i + 1)), Integer.MAX_VALUE));
                if (best == Integer.MAX_VALUE) break;
                int[] merge = merges.get(best);
                replaceAll(s, merge[0], merge[1], merge[2]);
            }
            ids.addAll(s);
        }
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private static void replaceAll(List<Integer> s, int left, int right, int id) {
        for (int i = 0; i + 1 < s.size(); i++) {
            if (s.get(i) == left && s.get(i + 1) == right) {
                s.set(i, id);
                s.remove(i + 1);
            }
        }
    }
}
