package ai.behemoth.data;

import java.util.List;

/**
 * Thresholds of the Gopher quality and repetition rules (Rae et al. 2021, appendix A). A document
 * is removed when a measure falls outside its bound. The defaults are Gopher's, except
 * {@code maxWords}: Gopher's 100,000 words would remove a whole book such as tiny Shakespeare
 * (202,651 words), so the default bound is 1,000,000.
 *
 * @param topNgramChars       bounds for the most frequent 2-, 3- and 4-gram (share of characters)
 * @param duplicateNgramChars bounds for duplicated 5- to 10-grams (share of word characters)
 */
public record QualityRules(
        int minWords, int maxWords,
        double minMeanWordLength, double maxMeanWordLength,
        double maxSymbolRatio,
        double maxBulletLines, double maxEllipsisLines,
        double maxDuplicateLines, double maxDuplicateLineChars,
        double maxDuplicateParagraphs, double maxDuplicateParagraphChars,
        List<Double> topNgramChars, List<Double> duplicateNgramChars) {

    /** The smallest n of the top n-gram rule (2) and of the duplicated n-gram rule (5). */
    public static final int FIRST_TOP_NGRAM = 2, FIRST_DUPLICATE_NGRAM = 5;

    public static final QualityRules GOPHER = new QualityRules(
            50, 1_000_000, 3, 10, 0.1, 0.9, 0.3, 0.3, 0.2, 0.3, 0.2,
            List.of(0.20, 0.18, 0.16),
            List.of(0.15, 0.14, 0.13, 0.12, 0.11, 0.10));

    public QualityRules {
        if (minWords < 0 || maxWords < minWords)
            throw new IllegalArgumentException("word bounds " + minWords + ".." + maxWords + " are not a range");
        if (minMeanWordLength < 0 || maxMeanWordLength < minMeanWordLength)
            throw new IllegalArgumentException("mean word length bounds " + minMeanWordLength + ".." + maxMeanWordLength + " are not a range");
        if (topNgramChars.size() != 3)
            throw new IllegalArgumentException("top n-gram bounds need 3 values (for 2-, 3-, 4-grams), got " + topNgramChars.size());
        if (duplicateNgramChars.size() != 6)
            throw new IllegalArgumentException("duplicate n-gram bounds need 6 values (for 5- to 10-grams), got " + duplicateNgramChars.size());
        topNgramChars = List.copyOf(topNgramChars);
        duplicateNgramChars = List.copyOf(duplicateNgramChars);
    }
}
