package ai.behemoth.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * The Gopher quality and repetition rules (Rae et al. 2021, appendix A) on one document. Words
 * are whitespace-separated; a word counts towards the word count and mean length only when it
 * has a letter or digit (a lone "-" or "..." is a symbol, not a word).
 */
public final class QualityFilter {
    private static final Pattern PARAGRAPH_BREAK = Pattern.compile("\\n\\s*\\n");
    private static final List<String> BULLETS = List.of("•", "‣", "⁃", "◦", "●", "▪", "■", "○", "·", "-", "*", "►", "➢");

    private final QualityRules rules;

    public QualityFilter(QualityRules rules) {
        this.rules = rules;
    }

    /** The first rule {@code text} breaks, or null when it passes them all. */
    public Removal check(String text) {
        List<String> words = Words.split(text);
        int wordCount = 0;
        long wordLengths = 0;
        for (String w : words) {
            if (hasLetterOrDigit(w)) {
                wordCount++;
                wordLengths += w.codePointCount(0, w.length());
            }
        }
        if (wordCount < rules.minWords()) return Removal.TOO_FEW_WORDS;
        if (wordCount > rules.maxWords()) return Removal.TOO_MANY_WORDS;
        double meanWordLength = wordCount == 0 ? 0 : (double) wordLengths / wordCount;
        if (meanWordLength < rules.minMeanWordLength() || meanWordLength > rules.maxMeanWordLength()) return Removal.MEAN_WORD_LENGTH;
        if (symbolRatio(text, words.size()) > rules.maxSymbolRatio()) return Removal.SYMBOL_RATIO;

        List<String> lines = nonBlankLines(text);
        if (share(lines, l -> BULLETS.stream().anyMatch(l::startsWith)) > rules.maxBulletLines()) return Removal.BULLET_LINES;
        if (share(lines, l -> l.endsWith("...") || l.endsWith("…")) > rules.maxEllipsisLines()) return Removal.ELLIPSIS_LINES;

        Duplicates dupLines = duplicates(lines);
        if (dupLines.share(lines.size()) > rules.maxDuplicateLines()) return Removal.DUPLICATE_LINES;
        if ((double) dupLines.chars / text.length() > rules.maxDuplicateLineChars()) return Removal.DUPLICATE_LINE_CHARS;
        List<String> paragraphs = Arrays.asList(PARAGRAPH_BREAK.split(text.strip()));
        Duplicates dupParagraphs = duplicates(paragraphs);
        if (dupParagraphs.share(paragraphs.size()) > rules.maxDuplicateParagraphs()) return Removal.DUPLICATE_PARAGRAPHS;
        if ((double) dupParagraphs.chars / text.length() > rules.maxDuplicateParagraphChars()) return Removal.DUPLICATE_PARAGRAPH_CHARS;

        return checkNgrams(words, text.length());
    }

    private Removal checkNgrams(List<String> words, int textLength) {
        long[] hashes = new long[words.size()];
        int[] lengths = new int[words.size()];
        long totalLength = 0;
        for (int i = 0; i < hashes.length; i++) {
            hashes[i] = Words.hash(words.get(i));
            lengths[i] = words.get(i).length();
            totalLength += lengths[i];
        }
        List<Double> top = rules.topNgramChars();
        for (int k = 0; k < top.size(); k++) {
            if (topNgramShare(hashes, lengths, QualityRules.FIRST_TOP_NGRAM + k, textLength) > top.get(k)) return Removal.TOP_NGRAM_CHARS;
        }
        List<Double> dup = rules.duplicateNgramChars();
        for (int k = 0; k < dup.size(); k++) {
            if (duplicateNgramShare(hashes, lengths, QualityRules.FIRST_DUPLICATE_NGRAM + k, totalLength) > dup.get(k)) return Removal.DUPLICATE_NGRAM_CHARS;
        }
        return null;
    }

    private static boolean hasLetterOrDigit(String word) {
        for (int i = 0; i < word.length(); ) {
            int c = word.codePointAt(i);
            if (Character.isLetterOrDigit(c)) return true;
            i += Character.charCount(c);
        }
        return false;
    }

    /** (Occurrences of '#', and of "..." or '…') per word, whichever is larger. */
    static double symbolRatio(String text, int words) {
        if (words == 0) return 0;
        int hashes = 0, ellipses = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '#') hashes++;
            else if (c == '…') ellipses++;
            else if (c == '.' && text.startsWith("...", i)) {
                ellipses++;
                i += 2;
            }
        }
        return (double) Math.max(hashes, ellipses) / words;
    }

    private static List<String> nonBlankLines(String text) {
        List<String> lines = new ArrayList<>();
        for (String line : text.split("\n")) {
            String s = line.strip();
            if (!s.isEmpty()) lines.add(s);
        }
        return lines;
    }

    private static double share(List<String> lines, Predicate<String> test) {
        if (lines.isEmpty()) return 0;
        return (double) lines.stream().filter(test).count() / lines.size();
    }

    /** How many elements repeat an earlier one, and their characters. */
    private record Duplicates(int count, long chars) {
        double share(int total) {
            return total == 0 ? 0 : (double) count / total;
        }
    }

    private static Duplicates duplicates(List<String> elements) {
        Set<String> seen = new HashSet<>();
        int count = 0;
        long chars = 0;
        for (String e : elements) {
            if (!seen.add(e)) {
                count++;
                chars += e.length();
            }
        }
        return new Duplicates(count, chars);
    }

    /**
     * The characters of the most frequent n-gram (words joined by single spaces) times its
     * count, over the text length; 0 when no n-gram occurs twice.
     */
    static double topNgramShare(long[] wordHashes, int[] wordLengths, int n, int textLength) {
        long[] grams = ngramHashes(wordHashes, n);
        int[] counts = occurrences(grams);
        int maxCount = 0;
        for (int c : counts) maxCount = Math.max(maxCount, c);
        if (maxCount < 2) return 0;
        long best = 0;
        for (int i = 0; i < grams.length; i++) {
            if (counts[i] != maxCount) continue;
            long chars = n - 1;
            for (int j = i; j < i + n; j++) chars += wordLengths[j];
            best = Math.max(best, chars * maxCount);
        }
        return (double) best / textLength;
    }

    /** The share of word characters covered by n-grams that occur more than once. */
    static double duplicateNgramShare(long[] wordHashes, int[] wordLengths, int n, long totalLength) {
        long[] grams = ngramHashes(wordHashes, n);
        int[] counts = occurrences(grams);
        boolean[] covered = new boolean[wordHashes.length];
        for (int i = 0; i < grams.length; i++) {
            if (counts[i] > 1) Arrays.fill(covered, i, i + n, true);
        }
        long chars = 0;
        for (int i = 0; i < covered.length; i++) if (covered[i]) chars += wordLengths[i];
        return totalLength == 0 ? 0 : (double) chars / totalLength;
    }

    private static long[] ngramHashes(long[] wordHashes, int n) {
        long[] grams = new long[Math.max(0, wordHashes.length - n + 1)];
        for (int i = 0; i < grams.length; i++) grams[i] = Words.hash(wordHashes, i, n);
        return grams;
    }

    /**
     * For each key, how many times it occurs in {@code keys}: counted in an open-addressing hash
     * table (linear probing, at most half full), linear in the number of keys.
     */
    static int[] occurrences(long[] keys) {
        int capacity = Integer.highestOneBit(Math.max(2, keys.length) * 2 - 1) << 1;
        long[] table = new long[capacity];
        int[] tableCounts = new int[capacity]; // 0: the slot is empty
        int[] slots = new int[keys.length];
        int mask = capacity - 1;
        for (int i = 0; i < keys.length; i++) {
            int slot = (int) Words.mix(keys[i]) & mask;
            while (tableCounts[slot] != 0 && table[slot] != keys[i]) slot = (slot + 1) & mask;
            table[slot] = keys[i];
            tableCounts[slot]++;
            slots[i] = slot;
        }
        int[] counts = new int[keys.length];
        for (int i = 0; i < keys.length; i++) counts[i] = tableCounts[slots[i]];
        return counts;
    }
}
