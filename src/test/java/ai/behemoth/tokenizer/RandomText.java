package ai.behemoth.tokenizer;

import java.util.Random;

/** Random strings that stress a tokenizer: ASCII words and punctuation, white space runs, CJK, emoji, combining marks, any code point. */
final class RandomText {
    private RandomText() {}

    private static final String[] PIECES = {
            " ", "  ", "\t", "\n", "\r\n", "\n\n", " \n ", "\u00a0", "\u3000", "\u2028", "\u0085", "\u000b",
            "'s", "'T", "'re", "'VE", "'m", "'ll", "'D", "'\u017f", "'", "\"",
            "the", " cat", "Hello", "WORLD", "don't", "1", "12345", "3.14", "\u0663\u0664", "\u2167", "\u00bd",
            "!", "...", "?!", " (", ")", "--", "#", "\u00e9", "e\u0301", "a\u0308\u0323", "\u0301",
            "\u4e2d\u6587", "\u65e5\u672c\u8a9e", "\ud55c\uad6d\uc5b4", "\u0627\u0644\u0639\u0631\u0628\u064a\u0629",
            "\ud83d\ude00", "\ud83d\udc4d\ud83c\udffd", "\ud83d\udc68\u200d\ud83d\udc69\u200d\ud83d\udc67", "\ud83c\uddeb\ud83c\uddf7",
            "\ud835\udc00\ud835\udc01", "\ud840\udc00", "\u200b", "\ufeff",
    };

    /** A string of {@code pieces} parts, each a stock piece or a random valid code point (no lone surrogates). */
    static String generate(Random random, int pieces) {
        StringBuilder sb = new StringBuilder();
        for (int p = 0; p < pieces; p++) {
            switch (random.nextInt(4)) {
                case 0, 1 -> sb.append(PIECES[random.nextInt(PIECES.length)]);
                case 2 -> sb.appendCodePoint(randomCodePoint(random, 0x80));
                default -> sb.appendCodePoint(randomCodePoint(random, random.nextBoolean() ? 0x3000 : Character.MAX_CODE_POINT + 1));
            }
        }
        return sb.toString();
    }

    private static int randomCodePoint(Random random, int bound) {
        while (true) {
            int cp = random.nextInt(bound);
            if (cp < Character.MIN_SURROGATE || cp > Character.MAX_SURROGATE) return cp;
        }
    }
}
