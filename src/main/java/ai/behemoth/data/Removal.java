package ai.behemoth.data;

/** Why a document was removed; each reason is counted in {@code report.json} and on screen. */
public enum Removal {
    EXACT_DUPLICATE("exact_duplicate"),
    TOO_FEW_WORDS("too_few_words"),
    TOO_MANY_WORDS("too_many_words"),
    MEAN_WORD_LENGTH("mean_word_length"),
    SYMBOL_RATIO("symbol_to_word_ratio"),
    BULLET_LINES("bullet_lines"),
    ELLIPSIS_LINES("ellipsis_lines"),
    DUPLICATE_LINES("duplicate_lines"),
    DUPLICATE_LINE_CHARS("duplicate_line_chars"),
    DUPLICATE_PARAGRAPHS("duplicate_paragraphs"),
    DUPLICATE_PARAGRAPH_CHARS("duplicate_paragraph_chars"),
    TOP_NGRAM_CHARS("top_ngram_chars"),
    DUPLICATE_NGRAM_CHARS("duplicate_ngram_chars"),
    NEAR_DUPLICATE("near_duplicate");

    /** The name in report.json and manifest.json. */
    public final String key;

    Removal(String key) {
        this.key = key;
    }
}
