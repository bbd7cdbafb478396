package ai.behemoth.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resolves a tokenizer SPEC: {@code bytes}, the path of a {@code tokenizer.json}, or a folder
 * holding one (a checkpoint).
 */
public final class Tokenizers {
    private Tokenizers() {}

    public static Tokenizer load(String spec) throws IOException {
        if (spec.equals("bytes")) return new ByteTokenizer();
        Path file = Path.of(spec);
        if (Files.isDirectory(file)) file = file.resolve("tokenizer.json");
        if (!Files.isRegularFile(file)) {
            throw new IOException("tokenizer " + file + ": no such file (a tokenizer is 'bytes', a tokenizer.json, or a folder holding one)");
        }
        return TokenizerJson.read(file);
    }
}
