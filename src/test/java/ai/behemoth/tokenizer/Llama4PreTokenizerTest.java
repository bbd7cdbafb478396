package ai.behemoth.tokenizer;

import ai.behemoth.data.BundledCorpus;
import ai.behemoth.format.GgufFile;
import ai.behemoth.format.GgufValue;
import ai.behemoth.format.GgufWriter;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Llama 4's pre-tokenizer (llama.cpp's {@code llama4}) against the splits Python's {@code regex}
 * module makes of the same expression ({@code tools/make_llama4_pretokenizer_cases.py}): tricky
 * hand-picked text (contractions, case changes inside words, digits, CJK, marks, newlines, slashes)
 * and seeded random text; and a GGUF vocabulary naming it encodes each of those pieces on its own.
 */
class Llama4PreTokenizerTest {
    @TempDir
    Path tmp;

    private static JsonNode cases() throws Exception {
        return new ObjectMapper().readTree(Llama4PreTokenizerTest.class.getResource("/tokenizer/llama4-pretokenizer.json"));
    }

    private static List<String> split(String text) {
        List<String> pieces = new ArrayList<>();
        PreTokenizer.splitLlama4(text, (start, end) -> pieces.add(text.substring(start, end)));
        return pieces;
    }

    private static List<String> expectedPieces(JsonNode c) {
        List<String> pieces = new ArrayList<>();
        c.get("pieces").forEach(p -> pieces.add(p.asText()));
        return pieces;
    }

    @Test
    void splitsAsPythonsRegexModule() throws Exception {
        JsonNode cases = cases();
        assertThat(cases.get("pattern").asText()).isEqualTo(PreTokenizer.LLAMA4_PATTERN);
        assertThat(cases.get("cases").size()).isGreaterThan(300);
        for (JsonNode c : cases.get("cases")) {
            String text = c.get("text").asText();
            assertThat(split(text)).as("%s", text).containsExactlyElementsOf(expectedPieces(c));
        }
    }

    /** Cases worked by hand from the expression, where it differs from Llama 3's. */
    @Test
    void keepsContractionsOnWordsAndSplitsCaseChanges() {
        assertThat(split("I'm he's DON'T")).containsExactly("I'm", " he's", " DON'T");
        assertThat(PreTokenizer.split("I'm he's")).containsExactly("I", "'m", " he", "'s");
        assertThat(split("camelCase XMLHttp")).containsExactly("camel", "Case", " XMLHttp");
        assertThat(split("12345 a/b//\n")).containsExactly("123", "45", " a", "/b", "//\n"); // one non-letter leads a word
        assertThat(split("中文 e\u0301!")).containsExactly("中文", " e\u0301", "!");
    }

    @Test
    void ggufVocabularyNamedLlama4EncodesTheLlama4Pieces() throws Exception {
        // trained (under Llama 3's split) on "McDonald" often enough to merge across the case change Llama 4 splits at
        BpeTokenizer trained = BpeTokenizer.train(BundledCorpus.shakespeare().substring(0, 20_000) + " McDonald".repeat(100), 420);
        Tokenizer llama4 = read(trained, "llama4");
        for (JsonNode c : cases().get("cases")) {
            String text = c.get("text").asText();
            List<Integer> expected = new ArrayList<>();
            for (String piece : expectedPieces(c)) for (int id : trained.encodePiece(piece)) expected.add(id);
            assertThat(llama4.encode(text)).as("%s", text).containsExactly(expected.stream().mapToInt(Integer::intValue).toArray());
            assertThat(llama4.decode(llama4.encode(text))).isEqualTo(text.getBytes(StandardCharsets.UTF_8));
        }
        assertThat(llama4.encode(" McDonald")).isNotEqualTo(trained.encode(" McDonald")).hasSizeGreaterThan(1);
    }

    /**
     * llama.cpp's other names of each split encode as the name Behemoth writes for it; the three
     * splits differ on digits and case changes.
     */
    @Test
    void llamaCppAliasesEncodeAsTheirSplit() throws IOException {
        BpeTokenizer trained = BpeTokenizer.train(BundledCorpus.shakespeare().substring(0, 5_000) + " McDonald 2024".repeat(100), 330);
        String text = "In 2024 McDonald said: I'm 12345 years old.";
        Map<String, String> canonical = Map.of("llama3", "llama-bpe", "llama-v3", "llama-bpe", "falcon3", "llama-bpe",
                "smaug-bpe", "llama-bpe", "dbrx", "llama-bpe", "megrez", "qwen2", "gpt-4o", "llama4");
        for (var alias : canonical.entrySet())
            assertThat(read(trained, alias.getKey()).encode(text)).as(alias.getKey()).containsExactly(read(trained, alias.getValue()).encode(text));
        int[] llama3 = read(trained, "llama-bpe").encode(text), qwen2 = read(trained, "qwen2").encode(text), llama4 = read(trained, "llama4").encode(text);
        assertThat(llama3).isNotEqualTo(qwen2).isNotEqualTo(llama4);
        assertThat(qwen2).isNotEqualTo(llama4);
    }

    private Tokenizer read(BpeTokenizer trained, String pre) throws IOException {
        return readWithPre(trained, pre, tmp);
    }

    /** {@code trained}'s vocabulary written to a GGUF in {@code dir} that names the pre-tokenizer {@code pre}, and read back. */
    static Tokenizer readWithPre(BpeTokenizer trained, String pre, Path dir) throws IOException {
        GgufWriter w = new GgufWriter();
        GgufVocabulary.write(trained, trained.vocabSize(), w);
        w.put("tokenizer.ggml.pre", GgufValue.string(pre));
        Path file = dir.resolve(pre + ".gguf");
        w.write(file);
        try (GgufFile f = GgufFile.open(file)) {
            return GgufVocabulary.read(f);
        }
    }
}
