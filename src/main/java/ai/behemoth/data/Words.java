package ai.behemoth.data;

import java.util.ArrayList;
import java.util.List;

/** Whitespace-separated words and the 64-bit hashes the filters and MinHash count them with. */
final class Words {
    private Words() {}

    /** The words of {@code text}: maximal runs of non-whitespace characters. */
    static List<String> split(String text) {
        List<String> words = new ArrayList<>();
        int n = text.length(), i = 0;
        while (i < n) {
            while (i < n && Character.isWhitespace(text.charAt(i))) i++;
            int start = i;
            while (i < n && !Character.isWhitespace(text.charAt(i))) i++;
            if (i > start) words.add(text.substring(start, i));
        }
        return words;
    }

    /** FNV-1a over the UTF-16 units, finished with {@link #mix}: a 64-bit hash of a string. */
    static long hash(String s) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < s.length(); i++) h = (h ^ s.charAt(i)) * 0x100000001b3L;
        return mix(h);
    }

    /** The hash of the {@code n} consecutive word hashes starting at {@code from}. */
    static long hash(long[] wordHashes, int from, int n) {
        long h = n;
        for (int j = 0; j < n; j++) h = h * 0x9e3779b97f4a7c15L + wordHashes[from + j];
        return mix(h);
    }

    /** The splitmix64 finaliser: spreads every input bit over the whole word. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }
}
