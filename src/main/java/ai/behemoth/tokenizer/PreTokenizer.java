package ai.behemoth.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into pre-tokens exactly as the Llama 3 / GPT-4 regular expression {@link #PATTERN}
 * does: contractions, words (with one leading non-letter such as a space), numbers in groups of at
 * most three digits, punctuation runs (with one leading space and trailing newlines), and
 * whitespace runs. BPE merges never cross a pre-token boundary.
 *
 * <p>The split is a hand-written scanner rather than {@link java.util.regex.Matcher}: it is several
 * times faster and allocates nothing. {@link #REFERENCE} is the same expression compiled by
 * java.util.regex with Unicode character classes (so {@code \s} is Unicode white space, as in the
 * Oniguruma engine of the Hugging Face library); the tests hold the scanner to it.
 *
 * <p>Llama 4's expression ({@link #LLAMA4_PATTERN}, {@link #splitLlama4}) is here too.
 */
public final class PreTokenizer {
    private PreTokenizer() {}

    public static final String PATTERN =
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    static final Pattern REFERENCE = Pattern.compile(PATTERN, Pattern.UNICODE_CHARACTER_CLASS);

    /**
     * Llama 4's expression (its tokenizer.json, the same as GPT-4o's; llama.cpp's {@code llama4}):
     * a word is optional upper-case letters then lower-case ones, or upper-case letters then optional
     * lower-case ones (so {@code "camelCase"} splits before {@code C}), combining marks count as both,
     * a contraction stays on its word, and punctuation takes trailing slashes as well as newlines.
     * llama.cpp runs an approximation of it (letters that are not a-z for "upper", not A-Z for
     * "lower", no marks); this is the expression itself, as Hugging Face runs it.
     */
    public static final String LLAMA4_PATTERN =
            "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
            + "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
            + "|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

    private static final Pattern LLAMA4 = Pattern.compile(LLAMA4_PATTERN, Pattern.UNICODE_CHARACTER_CLASS);

    /**
     * Calls {@code pieces} for each pre-token of {@code text} under {@link #LLAMA4_PATTERN}, in order:
     * the matches, and any text between them (Hugging Face's isolated split; the expression leaves
     * none, as every char is a letter, mark, number, white space or other). java.util.regex
     * backtracks as Oniguruma does, so the matches are the same; a prompt is split once, so no
     * hand-written scanner here.
     */
    public static void splitLlama4(String text, Pieces pieces) {
        Matcher m = LLAMA4.matcher(text);
        int at = 0;
        while (m.find()) {
            if (m.start() > at) pieces.accept(at, m.start());
            pieces.accept(m.start(), m.end());
            at = m.end();
        }
        if (at < text.length()) pieces.accept(at, text.length());
    }

    /**
     * Calls {@code pieces} for each pre-token of {@code text} under llama.cpp's {@code qwen2}
     * pre-tokenizer: the Llama 3 expression ({@link #PATTERN}) with {@code \p{N}} in place of
     * {@code \p{N}{1,3}}. At a number no other alternative can match in either expression, so this
     * is the Llama 3 split with every run of numbers cut into single code points.
     */
    public static void splitSingleDigits(String text, Pieces pieces) {
        split(text, (start, end) -> {
            if (classOf(text.codePointAt(start)) != NUMBER) {
                pieces.accept(start, end);
                return;
            }
            for (int i = start; i < end; i = text.offsetByCodePoints(i, 1)) pieces.accept(i, text.offsetByCodePoints(i, 1));
        });
    }

    /** Receives one pre-token as the range {@code [start, end)} of the text's chars. */
    @FunctionalInterface
    public interface Pieces {
        void accept(int start, int end);
    }

    // Character classes of the expression; "other" is anything that is not a letter, number or white space.
    private static final byte OTHER = 0, LETTER = 1, NUMBER = 2, SPACE = 3, NEWLINE = 4;
    private static final byte[] BMP_CLASS = new byte[0x10000];

    static {
        for (int c = 0; c < BMP_CLASS.length; c++) BMP_CLASS[c] = computeClass(c);
    }

    private static byte computeClass(int cp) {
        if (cp == '\r' || cp == '\n') return NEWLINE;
        int type = Character.getType(cp);
        return switch (type) {
            case Character.UPPERCASE_LETTER, Character.LOWERCASE_LETTER, Character.TITLECASE_LETTER,
                 Character.MODIFIER_LETTER, Character.OTHER_LETTER -> LETTER;
            case Character.DECIMAL_DIGIT_NUMBER, Character.LETTER_NUMBER, Character.OTHER_NUMBER -> NUMBER;
            // Unicode White_Space, as java.util.regex defines \s under UNICODE_CHARACTER_CLASS.
            case Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR -> SPACE;
            default -> (cp >= 0x09 && cp <= 0x0D) || cp == 0x85 ? SPACE : OTHER;
        };
    }

    private static byte classOf(int cp) {
        return cp < 0x10000 ? BMP_CLASS[cp] : computeClass(cp);
    }

    /** The pre-tokens of {@code text}, as strings (for training and tests). */
    public static List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        split(text, (start, end) -> pieces.add(text.substring(start, end)));
        return pieces;
    }

    /** Calls {@code pieces} for each pre-token of {@code text}, in order; together they cover the text. */
    public static void split(String text, Pieces pieces) {
        int n = text.length();
        int i = 0;
        while (i < n) {
            int end = matchAt(text, i, n);
            pieces.accept(i, end);
            i = end;
        }
    }

    /** The end of the match that starts at {@code i}: the first alternative of the expression that matches. */
    private static int matchAt(String s, int i, int n) {
        int c = s.codePointAt(i);
        byte cls = classOf(c);
        int afterC = i + Character.charCount(c);

        // (?i:'s|'t|'re|'ve|'m|'ll|'d)
        if (c == '\'') {
            int len = contraction(s, afterC, n);
            if (len > 0) return afterC + len;
        }
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (cls == LETTER) return endOfLetters(s, afterC, n);
        if ((cls == OTHER || cls == SPACE) && afterC < n && classOf(s.codePointAt(afterC)) == LETTER) {
            return endOfLetters(s, afterC, n);
        }
        // \p{N}{1,3}
        if (cls == NUMBER) {
            int end = afterC;
            for (int count = 1; count < 3 && end < n; count++) {
                int d = s.codePointAt(end);
                if (classOf(d) != NUMBER) break;
                end += Character.charCount(d);
            }
            return end;
        }
        // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
        int punctStart = -1;
        if (cls == OTHER) punctStart = i;
        else if (c == ' ' && afterC < n && classOf(s.codePointAt(afterC)) == OTHER) punctStart = afterC;
        if (punctStart >= 0) {
            int end = punctStart;
            while (end < n) {
                int p = s.codePointAt(end);
                if (classOf(p) != OTHER) break;
                end += Character.charCount(p);
            }
            while (end < n && (s.charAt(end) == '\r' || s.charAt(end) == '\n')) end++;
            return end;
        }
        // Only white space is left (all white space is in the BMP, one char each).
        int runEnd = i;
        int lastNewline = -1;
        while (runEnd < n) {
            byte k = BMP_CLASS[s.charAt(runEnd)];
            if (k == NEWLINE) lastNewline = runEnd;
            else if (k != SPACE) break;
            runEnd++;
        }
        // \s*[\r\n]+ : greedy \s* backs off to the last newline of the run.
        if (lastNewline >= 0) return lastNewline + 1;
        // \s+(?!\S) : the whole run at the end of the text, else all but its last char (which then
        // starts the next word or punctuation); \s+ when the run is one char.
        if (runEnd == n || runEnd - 1 == i) return runEnd;
        return runEnd - 1;
    }

    private static int endOfLetters(String s, int from, int n) {
        int end = from;
        while (end < n) {
            int l = s.codePointAt(end);
            if (classOf(l) != LETTER) break;
            end += Character.charCount(l);
        }
        return end;
    }

    /** Length of the contraction suffix (after the apostrophe) at {@code j}, 0 when none; case-insensitive. */
    private static int contraction(String s, int j, int n) {
        if (j >= n) return 0;
        int a = fold(s.charAt(j));
        if (a == 's' || a == 't' || a == 'm' || a == 'd') return 1;
        if (j + 1 >= n) return 0;
        int b = fold(s.charAt(j + 1));
        if ((a == 'r' || a == 'v') && b == 'e') return 2;
        if (a == 'l' && b == 'l') return 2;
        return 0;
    }

    /** Case folding as java.util.regex compares chars under UNICODE_CASE (so the long s U+017F matches 's'). */
    private static int fold(char c) {
        return Character.toLowerCase(Character.toUpperCase(c));
    }
}
