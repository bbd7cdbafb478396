package ai.behemoth.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenizerJsonTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static byte[] resource(String name) throws IOException {
        try (InputStream in = TokenizerJsonTest.class.getResourceAsStream("/tokenizer/" + name)) {
            assertThat(in).as("test resource %s", name).isNotNull();
            return in.readAllBytes();
        }
    }

    /** The golden file is what training on golden-corpus.txt with 300 tokens gives, byte for byte. */
    @Test
    void retrainingTheGoldenCorpusGivesTheCommittedTokenizerJson() throws IOException {
        String corpus = new String(resource("golden-corpus.txt"), StandardCharsets.UTF_8);
        Path out = dir.resolve("tokenizer.json");
        BpeTokenizer.train(corpus, 300).save(out);
        assertThat(Files.readString(out)).isEqualTo(new String(resource("golden-tokenizer.json"), StandardCharsets.UTF_8));
    }

    /** Ids worked out from the golden file's merge list: merge k makes token 256 + k. */
    @Test
    void goldenTokenizerEncodesBySplittingThenMergingInRankOrder() throws IOException {
        Path file = dir.resolve("golden.json");
        Files.write(file, resource("golden-tokenizer.json"));
        JsonNode model = JSON.readTree(file.toFile()).get("model");
        List<String> merges = new ArrayList<>();
        model.get("merges").forEach(m -> merges.add(m.asText()));
        Tokenizer t = Tokenizers.load(file.toString());

        // "The" is T + he (merge "T he"); " fox" is Ġfo + x; " and" is Ġa + nd; " the" is Ġ + the; " dog" is Ġd + og.
        assertThat(t.encode("The fox and the dog")).containsExactly(
                256 + merges.indexOf("T he"), 256 + merges.indexOf("Ġfo x"), 256 + merges.indexOf("Ġa nd"),
                256 + merges.indexOf("Ġ the"), 256 + merges.indexOf("Ġd og"));
        // "then": "h e" (rank 0) beats "e n" (a later rank), so the result is "the" + "n", never "th" + "en".
        assertThat(merges.indexOf("h e")).isLessThan(merges.indexOf("e n"));
        assertThat(t.encode("then")).containsExactly(256 + merges.indexOf("t he"), 'n');
        // Merges never cross pre-tokens: "dog." is "dog" (d + og) then "." (the merge ". Ċ" needs a newline).
        assertThat(t.encode("dog.")).containsExactly('d', model.get("vocab").get("og").asInt(), '.');
        assertThat(t.encode("dog.\n")).containsExactly('d', model.get("vocab").get("og").asInt(), 256 + merges.indexOf(". Ċ"));
    }

    /** The Hugging Face tokenizers library (tools/hf-tokenizers-check.sh) encoded golden-sample.txt to these ids. */
    @Test
    void goldenTokenizerEncodesLikeTheHuggingFaceLibrary() throws IOException {
        Path file = dir.resolve("golden.json");
        Files.write(file, resource("golden-tokenizer.json"));
        String sample = new String(resource("golden-sample.txt"), StandardCharsets.UTF_8);
        int[] hfIds = Arrays.stream(new String(resource("golden-sample.hf-ids.txt"), StandardCharsets.US_ASCII).trim().split("\\s+"))
                .mapToInt(Integer::parseInt).toArray();
        assertThat(Tokenizers.load(file.toString()).encode(sample)).containsExactly(hfIds);
    }

    @Test
    void savedBpeLoadsBackAsAnEquivalentTokenizer() throws IOException {
        String corpus = new String(resource("golden-corpus.txt"), StandardCharsets.UTF_8);
        BpeTokenizer original = BpeTokenizer.train(corpus, 330);
        Path first = dir.resolve("first.json"), second = dir.resolve("second.json");
        original.save(first);
        Tokenizer loaded = Tokenizers.load(first.toString());
        assertThat(loaded.vocabSize()).isEqualTo(original.vocabSize());
        Files.copy(first, dir.resolve("tokenizer.json"));
        assertThat(Tokenizers.load(dir.toString()).encode("a folder holding a tokenizer.json")).isEqualTo(original.encode("a folder holding a tokenizer.json"));
        for (String special : BpeTokenizer.SPECIAL_TOKENS) assertThat(loaded.specialToken(special)).isEqualTo(original.specialToken(special));
        for (int id = 0; id < original.vocabSize(); id++) assertThat(loaded.tokenBytes(id)).isEqualTo(original.tokenBytes(id));
        Random random = new Random(5);
        for (int trial = 0; trial < 300; trial++) {
            String text = RandomText.generate(random, 40);
            assertThat(loaded.encode(text)).isEqualTo(original.encode(text));
        }
        loaded.save(second);
        assertThat(Files.readAllBytes(second)).isEqualTo(Files.readAllBytes(first));
    }

    @Test
    void savedByteTokenizerLoadsBackWithIdsEqualToBytes() throws IOException {
        Path file = dir.resolve("bytes.json");
        new ByteTokenizer().save(file);
        JsonNode root = JSON.readTree(file.toFile());
        assertThat(root.at("/model/type").asText()).isEqualTo("BPE");
        assertThat(root.at("/model/vocab").size()).isEqualTo(256);
        assertThat(root.at("/model/vocab/Ġ").asInt()).isEqualTo(32);
        assertThat(root.at("/model/vocab/A").asInt()).isEqualTo(65);
        assertThat(root.at("/model/merges").size()).isZero();
        Tokenizer loaded = Tokenizers.load(file.toString());
        assertThat(loaded.vocabSize()).isEqualTo(256);
        Random random = new Random(9);
        for (int trial = 0; trial < 300; trial++) {
            String text = RandomText.generate(random, 40);
            assertThat(loaded.encode(text)).isEqualTo(new ByteTokenizer().encode(text));
        }
    }

    @Test
    void saveReplacesAtomicallyAndLeavesNothingBehindOnFailure() throws IOException {
        Path notAFolder = dir.resolve("plain-file");
        Files.writeString(notAFolder, "x");
        assertThatThrownBy(() -> new ByteTokenizer().save(notAFolder.resolve("tokenizer.json")))
                .isInstanceOf(IOException.class).hasMessageContaining("tokenizer.json");
        assertThatThrownBy(() -> new ByteTokenizer().save(dir.resolve("missing/tokenizer.json")))
                .isInstanceOf(IOException.class).hasMessageContaining("does not exist");
        Path existing = dir.resolve("tokenizer.json");
        Files.writeString(existing, "old");
        new ByteTokenizer().save(existing);
        assertThat(Files.readString(existing)).contains("\"BPE\"");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("plain-file", "tokenizer.json");
        }
    }

    // Each broken file must give one line naming the file and the field.

    @Test
    void missingModelIsAnError() throws IOException {
        assertLoadFails(root -> root.remove("model"), "field model is missing");
    }

    @Test
    void unknownModelTypeIsAnError() throws IOException {
        assertLoadFails(root -> ((ObjectNode) root.get("model")).put("type", "WordPiece"), "model.type is 'WordPiece'");
    }

    @Test
    void mergeOfAnUnknownTokenIsAnError() throws IOException {
        assertLoadFails(root -> ((ArrayNode) root.at("/model/merges")).set(2, "Ġ zzzq"), "model.merges[2] refers to unknown token 'zzzq'");
    }

    @Test
    void mergeWhoseResultIsNotInTheVocabularyIsAnError() throws IOException {
        assertLoadFails(root -> ((ArrayNode) root.at("/model/merges")).set(0, "x y"), "model.merges[0] makes 'xy'");
    }

    @Test
    void missingByteTokenIsAnError() throws IOException {
        assertLoadFails(root -> ((ObjectNode) root.at("/model/vocab")).remove("Ā"), "lacks the token 'Ā' of byte 0x00");
    }

    @Test
    void gapInTheIdsIsAnError() throws IOException {
        assertLoadFails(root -> ((ObjectNode) root.at("/model/vocab")).put("Ā", 5000), "no token has id 0");
    }

    @Test
    void otherPreTokenizerIsAnError() throws IOException {
        assertLoadFails(root -> ((ObjectNode) root.at("/pre_tokenizer/pretokenizers/0/pattern")).put("Regex", "\\s+"), "pre_tokenizer");
    }

    @Test
    void normalizerIsAnError() throws IOException {
        assertLoadFails(root -> root.putObject("normalizer").put("type", "NFC"), "normalizer is NFC");
    }

    @Test
    void invalidJsonAndMissingFilesAreErrors() throws IOException {
        Path file = dir.resolve("broken.json");
        Files.writeString(file, "{\"model\": ");
        assertThatThrownBy(() -> Tokenizers.load(file.toString())).isInstanceOf(IOException.class)
                .hasMessageStartingWith(file + ": not valid JSON");
        assertThatThrownBy(() -> Tokenizers.load(dir.resolve("absent.json").toString())).isInstanceOf(IOException.class)
                .hasMessageContaining("absent.json").hasMessageContaining("no such file");
    }

    private void assertLoadFails(Consumer<ObjectNode> breakIt, String message) throws IOException {
        ObjectNode root = (ObjectNode) JSON.readTree(resource("golden-tokenizer.json"));
        breakIt.accept(root);
        Path file = dir.resolve("broken.json");
        Files.write(file, JSON.writeValueAsBytes(root));
        assertThatThrownBy(() -> Tokenizers.load(file.toString()))
                .isInstanceOf(IOException.class)
                .hasMessageStartingWith(file + ": ")
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
}
