package ai.behemoth.tokenizer;

import ai.behemoth.data.BundledCorpus;
import ai.behemoth.format.GgufFile;
import ai.behemoth.format.GgufValue;
import ai.behemoth.format.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A tokenizer written as GGUF {@code gpt2} metadata and read back encodes and decodes as before. */
class GgufVocabularyTest {
    @TempDir
    Path tmp;

    private Tokenizer roundTrip(Tokenizer tokenizer, int vocabSize) throws IOException {
        GgufWriter w = new GgufWriter();
        w.put("general.architecture", GgufValue.string("llama"));
        GgufVocabulary.write(tokenizer, vocabSize, w);
        Path file = tmp.resolve("vocab.gguf");
        w.write(file);
        try (GgufFile f = GgufFile.open(file)) {
            return GgufVocabulary.read(f);
        }
    }

    @Test
    void trainedBpeEncodesTheSameAfterTheTrip() throws IOException {
        String corpus = BundledCorpus.shakespeare().substring(0, 20_000);
        BpeTokenizer trained = BpeTokenizer.train(corpus, 400);
        Tokenizer back = roundTrip(trained, 416);
        assertThat(back.vocabSize()).isEqualTo(416);
        assertThat(new String(back.tokenBytes(410), StandardCharsets.UTF_8)).isEqualTo("[PAD410]");
        for (String special : BpeTokenizer.SPECIAL_TOKENS) assertThat(back.specialToken(special)).isEqualTo(trained.specialToken(special));
        String heldOut = BundledCorpus.shakespeare().substring(40_000, 50_000);
        assertThat(back.encode(heldOut)).isEqualTo(trained.encode(heldOut));
        String random = RandomText.generate(new Random(5), 400);
        assertThat(back.encode(random)).isEqualTo(trained.encode(random));
        assertThat(back.decode(trained.encode(random))).isEqualTo(random.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void byteTokenizerBecomes256ByteTokensWithoutMerges() throws IOException {
        Tokenizer back = roundTrip(new ByteTokenizer(), 256);
        String text = "naïve 🦊 text";
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = back.encode(text);
        assertThat(ids).hasSize(bytes.length);
        for (int i = 0; i < ids.length; i++) assertThat(ids[i]).isEqualTo(bytes[i] & 0xff);
    }

    /** qwen2's expression, compiled by java.util.regex: the reference for the split. */
    private static final java.util.regex.Pattern QWEN2 = java.util.regex.Pattern.compile(
            "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
            java.util.regex.Pattern.UNICODE_CHARACTER_CLASS);

    @Test
    void qwen2PreTokenizerSplitsDigitsOneByOne() throws IOException {
        BpeTokenizer trained = BpeTokenizer.train(BundledCorpus.shakespeare().substring(0, 20_000) + " 1234 2024 365 12 ".repeat(50), 400);
        Tokenizer qwen = Llama4PreTokenizerTest.readWithPre(trained, "qwen2", tmp);
        String text = "In 2024, 12345 men paid £1,000.50 for ١٢٣ and Ⅻ items. " + RandomText.generate(new Random(9), 300);
        java.util.regex.Matcher m = QWEN2.matcher(text);
        java.util.List<Integer> expected = new java.util.ArrayList<>();
        while (m.find()) for (int id : trained.encodePiece(m.group())) expected.add(id);
        assertThat(qwen.encode(text)).containsExactly(expected.stream().mapToInt(Integer::intValue).toArray());
        assertThat(qwen.encode("2024")).hasSize(4).isNotEqualTo(trained.encode("2024"));
        assertThat(qwen.decode(qwen.encode(text))).isEqualTo(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void otherTokenizerModelsAndPreTokenizersAreRefusedByName() throws IOException {
        GgufWriter w = new GgufWriter();
        GgufVocabulary.write(new ByteTokenizer(), 256, w);
        w.put("tokenizer.ggml.pre", GgufValue.string("deepseek-v3"));
        Path file = tmp.resolve("deepseek-v3.gguf");
        w.write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertThatThrownBy(() -> GgufVocabulary.read(f)).isInstanceOf(IOException.class)
                    .hasMessageContaining("tokenizer.ggml.pre is 'deepseek-v3'; Behemoth has the pre-tokenizers 'llama-bpe', 'llama3', ")
                    .hasMessageContaining("'qwen2'").hasMessageContaining("'llama4'");
        }
        w.put("tokenizer.ggml.model", GgufValue.string("rwkv"));
        w.write(file);
        try (GgufFile f = GgufFile.open(file)) {
            assertThatThrownBy(() -> GgufVocabulary.read(f)).isInstanceOf(IOException.class)
                    .hasMessageContaining("tokenizer.ggml.model is 'rwkv'");
        }
    }
}
