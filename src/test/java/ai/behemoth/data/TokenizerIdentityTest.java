package ai.behemoth.data;

import ai.behemoth.tokenizer.ByteTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

class TokenizerIdentityTest {
    @TempDir
    Path dir;

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    @Test
    void aFileSpecIsIdentifiedByTheSha256OfItsBytesAndBytesByItsName() throws Exception {
        Path file = dir.resolve("tokenizer.json");
        byte[] json = "{\"model\": {\"type\": \"BPE\"}}".getBytes(StandardCharsets.UTF_8);
        Files.write(file, json);
        assertThat(TokenizerIdentity.specSha256(file.toString())).isEqualTo(sha256(json));
        assertThat(TokenizerIdentity.specSha256("bytes")).isEqualTo(sha256("bytes".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("277089d91c0bdf4f2e6862ba7e4a07605119431f5d13f726dd352b06f1b206a9");
    }

    @Test
    void theVocabularyHashCoversEveryTokensBytesAndTheirBoundaries() throws IOException {
        String bytes = TokenizerIdentity.vocabSha256(new ByteTokenizer());
        assertThat(bytes).isEqualTo(TokenizerIdentity.vocabSha256(new ByteTokenizer())).hasSize(64);
        PrepareDataTest.BytesWithEndOfText withEot = new PrepareDataTest.BytesWithEndOfText();
        assertThat(TokenizerIdentity.vocabSha256(withEot)).isNotEqualTo(bytes);
    }
}
