package ai.behemoth.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resolves a tokenizer SPEC: {@code bytes} or the path of a {@code tokenizer.json}. */
public final class Tokenizers {
    private Tokenizers() {}

    public static Tokenizer load(String spec) throws IOException {
        if (spec.equals("bytes")) return new ByteTokenizer();
        Path file = Path.of(spec);
        if (!Files.isRegularFile(file)) {
            throw new IOException("tokenizer " + spec + ": no such file (a tokenizer is 'bytes' or the path of a tokenizer.json)");
        }
        return TokenizerJson.read(file);
    }
}
