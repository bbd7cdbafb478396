package ai.behemoth.data;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Crafted test documents: seeded pseudo-words, so that no two documents share text by chance. */
final class Texts {
    private Texts() {}

    /** {@code n} random lower-case words of 3 to 8 letters. */
    static List<String> words(Random random, int n) {
        List<String> words = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            StringBuilder w = new StringBuilder();
            int length = 3 + random.nextInt(6);
            for (int j = 0; j < length; j++) w.append((char) ('a' + random.nextInt(26)));
            words.add(w.toString());
        }
        return words;
    }

    /** A line of {@code n} random words. */
    static String line(Random random, int n) {
        return String.join(" ", words(random, n));
    }

    /** {@code lines} lines of {@code wordsPerLine} random words, joined by newlines. */
    static String lines(Random random, int lines, int wordsPerLine) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < lines; i++) out.add(line(random, wordsPerLine));
        return String.join("\n", out);
    }
}
