package ai.behemoth.train;

import ai.behemoth.tokenizer.ByteTokenizer;
import ai.behemoth.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

/** The byte tokenizer with a minimal tokenizer.json writer, so that checkpoint tests do not depend on the real one. */
public final class SavingByteTokenizer implements Tokenizer {
    private final ByteTokenizer bytes = new ByteTokenizer();

    @Override
    public int vocabSize() {
        return bytes.vocabSize();
    }

    @Override
    public int[] encode(String text) {
        return bytes.encode(text);
    }

    @Override
    public byte[] decode(int[] ids) {
        return bytes.decode(ids);
    }

    @Override
    public byte[] tokenBytes(int id) {
        return bytes.tokenBytes(id);
    }

    @Override
    public OptionalInt specialToken(String text) {
        return bytes.specialToken(text);
    }

    @Override
    public void save(Path file) throws IOException {
        Files.writeString(file, "{\"model\": {\"type\": \"bytes\"}}");
    }
}
