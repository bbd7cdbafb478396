package ai.behemoth.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class QualityFilterTest {
    static final double MAX = Double.MAX_VALUE;

    /** Every rule switched off: each test below switches on exactly one, at Gopher's bound. */
    static final QualityRules OFF = new QualityRules(0, Integer.MAX_VALUE, 0, Double.MAX_VALUE, Double.MAX_VALUE,
            1, 1, 1, 1, 1, 1, List.of(MAX, MAX, MAX), List.of(MAX, MAX, MAX, MAX, MAX, MAX));

    /** {@code base} with one component replaced, by name. */
    static QualityRules with(QualityRules base, String component, Object value) throws ReflectiveOperationException {
        RecordComponent[] components = QualityRules.class.getRecordComponents();
        Object[] values = new Object[components.length];
        Class<?>[] types = new Class<?>[components.length];
        boolean found = false;
        for (int i = 0; i < components.length; i++) {
            types[i] = components[i].getType();
            values[i] = components[i].getName().equals(component) ? value : components[i].getAccessor().invoke(base);
            found |= components[i].getName().equals(component);
        }
        assertThat(found).as("component " + component).isTrue();
        return QualityRules.class.getDeclaredConstructor(types).newInstance(values);
    }

    static Removal check(QualityRules rules, String text) {
        return new QualityFilter(rules).check(text);
    }

    static Stream<Arguments> rules() {
        Random r = new Random(7);
        String tenLines = Texts.lines(r, 10, 30);
        List<String> bulleted = new ArrayList<>(), ellipsised = new ArrayList<>();
        for (String line : tenLines.split("\n")) {
            bulleted.add("- " + line);
            ellipsised.add(line + "...");
        }
        String bullets10 = String.join("\n", bulleted);
        String bullets9 = String.join("\n", bulleted.subList(0, 9)) + "\n" + Texts.line(r, 30);
        String ellipsis4 = String.join("\n", ellipsised.subList(0, 4)) + "\n" + Texts.lines(r, 6, 30);
        String ellipsis3 = String.join("\n", ellipsised.subList(0, 3)) + "\n" + Texts.lines(r, 7, 30);

        String chorus = "the chorus sings";
        String dupLines4 = Texts.lines(r, 7, 10) + ("\n" + chorus).repeat(5);  // 12 lines, 4 repeat: 0.33
        String dupLines3 = Texts.lines(r, 8, 10) + ("\n" + chorus).repeat(4);  // 12 lines, 3 repeat: 0.25
        String long1 = Texts.line(r, 60);
        String dupLineChars = long1 + "\n" + Texts.lines(r, 8, 10) + "\n" + long1;     // 1 of 10 lines, ~30% of chars
        String noDupLineChars = long1 + "\n" + Texts.lines(r, 8, 40) + "\n" + long1;   // 1 of 10 lines, ~12% of chars

        String fiveLineParagraphs = Texts.lines(r, 5, 8) + "\n\n" + Texts.lines(r, 5, 8) + "\n\n" + Texts.lines(r, 5, 8);
        String dupParagraphs = fiveLineParagraphs + ("\n\n" + chorus).repeat(3);      // 6 paragraphs, 2 repeat: 0.33
        String noDupParagraphs = fiveLineParagraphs + "\n\n" + Texts.lines(r, 5, 8) + ("\n\n" + chorus).repeat(3); // 7, 2: 0.29
        String bigParagraph = Texts.lines(r, 4, 15);
        String dupParagraphChars = bigParagraph + "\n\n" + Texts.lines(r, 6, 15) + "\n\n" + bigParagraph;   // 40% of chars
        String noDupParagraphChars = bigParagraph + "\n\n" + Texts.lines(r, 16, 15) + "\n\n" + bigParagraph; // 17%

        List<String> w = Texts.words(r, 300);
        String topBigram = String.join(" ", w.subList(0, 200)) + " is it".repeat(60);   // "is it" x60: 300 of ~1.6k chars
        String noTopBigram = String.join(" ", w.subList(0, 250)) + " is it".repeat(20); // 100 of ~1.7k chars
        String repeatedTen = String.join(" ", w.subList(0, 10));
        String dupTenGrams = String.join(" ", w.subList(10, 60)) + " " + repeatedTen + " " + String.join(" ", w.subList(60, 110)) + " " + repeatedTen;
        String noDupTenGrams = String.join(" ", w.subList(10, 160)) + " " + repeatedTen + " " + String.join(" ", w.subList(160, 290)) + " " + repeatedTen;

        String fifty = Texts.line(r, 50);
        return Stream.of(
                Arguments.of("minWords", 50, fifty.substring(0, fifty.lastIndexOf(' ')), fifty, Removal.TOO_FEW_WORDS),
                Arguments.of("maxWords", 100, Texts.line(r, 101), Texts.line(r, 100), Removal.TOO_MANY_WORDS),
                Arguments.of("minMeanWordLength", 3.0, sized(r, 2, 3), sized(r, 3, 4), Removal.MEAN_WORD_LENGTH),
                Arguments.of("maxMeanWordLength", 10.0, sized(r, 10, 12), sized(r, 9, 11), Removal.MEAN_WORD_LENGTH),
                Arguments.of("maxSymbolRatio", 0.1, hashTagged(r, 100, 11), hashTagged(r, 100, 10), Removal.SYMBOL_RATIO),
                Arguments.of("maxSymbolRatio", 0.1, Texts.line(r, 100) + " wait…".repeat(12), Texts.line(r, 100) + " wait...".repeat(8), Removal.SYMBOL_RATIO),
                Arguments.of("maxBulletLines", 0.9, bullets10, bullets9, Removal.BULLET_LINES),
                Arguments.of("maxEllipsisLines", 0.3, ellipsis4, ellipsis3, Removal.ELLIPSIS_LINES),
                Arguments.of("maxDuplicateLines", 0.3, dupLines4, dupLines3, Removal.DUPLICATE_LINES),
                Arguments.of("maxDuplicateLineChars", 0.2, dupLineChars, noDupLineChars, Removal.DUPLICATE_LINE_CHARS),
                Arguments.of("maxDuplicateParagraphs", 0.3, dupParagraphs, noDupParagraphs, Removal.DUPLICATE_PARAGRAPHS),
                Arguments.of("maxDuplicateParagraphChars", 0.2, dupParagraphChars, noDupParagraphChars, Removal.DUPLICATE_PARAGRAPH_CHARS),
                Arguments.of("topNgramChars", List.of(0.2, 0.18, 0.16), topBigram, noTopBigram, Removal.TOP_NGRAM_CHARS),
                Arguments.of("duplicateNgramChars", List.of(0.15, 0.14, 0.13, 0.12, 0.11, 0.10), dupTenGrams, noDupTenGrams, Removal.DUPLICATE_NGRAM_CHARS));
    }

    /** 100 random words, alternately of {@code a} and {@code b} letters (mean (a+b)/2). */
    static String sized(Random r, int a, int b) {
        List<String> w = new ArrayList<>();
        for (String word : Texts.words(r, 100)) {
            StringBuilder s = new StringBuilder(word);
            int length = w.size() % 2 == 0 ? a : b;
            while (s.length() < length) s.append((char) ('a' + r.nextInt(26)));
            w.add(s.substring(0, length));
        }
        return String.join(" ", w);
    }

    /** {@code words} random words, {@code tagged} of them starting with '#'. */
    static String hashTagged(Random r, int words, int tagged) {
        List<String> w = new ArrayList<>(Texts.words(r, words));
        for (int i = 0; i < tagged; i++) w.set(i * 9, "#" + w.get(i * 9));
        return String.join(" ", w);
    }

    @ParameterizedTest(name = "{0} = {1}")
    @MethodSource("rules")
    void eachRuleRemovesTheDocumentThatBreaksItAndKeepsTheOneThatDoesNot(String rule, Object bound, String trips, String passes,
                                                                         Removal reason) throws Exception {
        QualityRules one = with(OFF, rule, bound);
        assertThat(check(OFF, trips)).as("with every rule off").isNull();
        assertThat(check(one, trips)).isEqualTo(reason);
        assertThat(check(one, passes)).isNull();
    }

    @Test
    void gopherDefaultsKeepOrdinaryProseAndTheWholeOfTinyShakespeare() {
        assertThat(check(QualityRules.GOPHER, Texts.lines(new Random(1), 12, 25))).isNull();
        assertThat(check(QualityRules.GOPHER, BundledCorpus.shakespeare())).isNull();
    }

    @Test
    void gopherDefaultsRemoveBoilerplate() {
        String menu = "- Home\n- About us\n- Contact\n- Login\n".repeat(20);
        assertThat(check(QualityRules.GOPHER, menu)).isNotNull();
        assertThat(check(QualityRules.GOPHER, "Click here to read more...\n".repeat(40))).isNotNull();
    }

    /** The n-gram measures against a plain reference over strings: join, count, mark. */
    @Test
    void ngramMeasuresMatchAStringReference() {
        Random r = new Random(3);
        List<String> vocabulary = Texts.words(r, 12); // few words, so n-grams repeat
        for (int trial = 0; trial < 20; trial++) {
            List<String> words = new ArrayList<>();
            for (int i = 0, n = 40 + r.nextInt(200); i < n; i++) words.add(vocabulary.get(r.nextInt(vocabulary.size())));
            String text = String.join(" ", words);
            long[] hashes = words.stream().mapToLong(Words::hash).toArray();
            int[] lengths = words.stream().mapToInt(String::length).toArray();
            long totalLength = Arrays.stream(lengths).sum();
            for (int n = 2; n <= 10; n++) {
                Map<String, Integer> counts = new HashMap<>();
                for (int i = 0; i + n <= words.size(); i++) counts.merge(String.join(" ", words.subList(i, i + n)), 1, Integer::sum);
                int max = counts.values().stream().max(Integer::compare).orElse(0);
                long top = 0;
                for (var e : counts.entrySet()) if (e.getValue() == max && max > 1) top = Math.max(top, (long) e.getKey().length() * max);
                assertThat(QualityFilter.topNgramShare(hashes, lengths, n, text.length()))
                        .as("top %d-gram, trial %d", n, trial).isCloseTo((double) top / text.length(), within(1e-12));

                boolean[] covered = new boolean[words.size()];
                for (int i = 0; i + n <= words.size(); i++)
                    if (counts.get(String.join(" ", words.subList(i, i + n))) > 1) Arrays.fill(covered, i, i + n, true);
                long chars = 0;
                for (int i = 0; i < covered.length; i++) if (covered[i]) chars += words.get(i).length();
                assertThat(QualityFilter.duplicateNgramShare(hashes, lengths, n, totalLength))
                        .as("duplicate %d-grams, trial %d", n, trial).isCloseTo((double) chars / totalLength, within(1e-12));
            }
        }
    }

    @Test
    void occurrencesCountEveryKey() {
        long[] keys = {5, 7, 5, -1, 5, 7, 0, Long.MIN_VALUE};
        assertThat(QualityFilter.occurrences(keys)).containsExactly(3, 2, 3, 1, 3, 2, 1, 1);
        assertThat(QualityFilter.occurrences(new long[0])).isEmpty();
    }
}
