package ai.behemoth.data;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code manifest.json} of a prepared shard folder: what made the shards and what they hold.
 * Written with sorted, timestamp-free content so that the same inputs give the same bytes.
 */
public record Manifest(String format, TokenizerInfo tokenizer, String dtype, Documents documents, Split train, Split val) {
    public static final String FILE = "manifest.json";
    public static final String FORMAT = "behemoth-token-shards-v1";

    /** @param endOfText the id that joins documents, or null when the tokenizer has none */
    public record TokenizerInfo(String spec, String sha256, String vocabSha256, int vocabSize, Integer endOfText) {}

    /** @param removed documents removed, by {@link Removal} key; skipped: files or lines that were not text */
    public record Documents(long read, long kept, Map<String, Long> removed, long skipped) {}

    /** @param bytes the UTF-8 bytes of the text the tokens stand for (separators not counted) */
    public record Split(long documents, long tokens, long bytes, List<Shard> shards) {}

    public record Shard(String name, long tokens, String sha256) {}

    static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    public void write(Path folder) throws IOException {
        Files.write(folder.resolve(FILE), (JSON.writeValueAsString(this) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    public static Manifest read(Path folder) throws IOException {
        Path file = folder.resolve(FILE);
        Manifest m;
        try {
            m = JSON.readValue(file.toFile(), Manifest.class);
        } catch (JacksonException e) {
            throw new IOException(file + ": not a valid manifest (" + e.getOriginalMessage() + ")");
        }
        if (!FORMAT.equals(m.format())) throw new IOException(file + ": format is " + m.format() + ", expected " + FORMAT);
        if (m.tokenizer() == null || m.dtype() == null || m.train() == null || m.val() == null)
            throw new IOException(file + ": a field (tokenizer, dtype, train or val) is missing");
        return m;
    }
}
