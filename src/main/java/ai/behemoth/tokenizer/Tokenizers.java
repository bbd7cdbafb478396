package ai.behemoth.tokenizer;

import java.io.IOException;

/** Resolves a tokenizer SPEC: {@code bytes} or the path of a {@code tokenizer.json}. */
public final class Tokenizers {
    private Tokenizers() {}

    /** PLACEHOLDER until tokenizer.json loading lands: only {@code bytes}. */
    public static Tokenizer load(String spec) throws IOException {
        if (spec.equals("bytes")) return new ByteTokenizer();
        throw new IOException("tokenizer " + spec + ": tokenizer.json loading is not built yet");
    }
}
