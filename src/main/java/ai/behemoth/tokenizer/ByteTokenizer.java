package ai.behemoth.tokenizer;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.OptionalInt;

/** The 256 byte values as tokens: id b is byte b. No special tokens. */
public final class ByteTokenizer implements Tokenizer {
    @Override
    public int vocabSize() {
        return 256;
    }

    @Override
    public int[] encode(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) ids[i] = bytes[i] & 0xff;
        return ids;
    }

    @Override
    public byte[] decode(int[] ids) {
        byte[] out = new byte[ids.length];
        for (int i = 0; i < ids.length; i++) out[i] = tokenBytes(ids[i])[0];
        return out;
    }

    @Override
    public byte[] tokenBytes(int id) {
        if (id < 0 || id > 255) throw new IllegalArgumentException("token id " + id + " is outside the byte vocabulary 0..255");
        return new byte[]{(byte) id};
    }

    @Override
    public OptionalInt specialToken(String text) {
        return OptionalInt.empty();
    }

    /** PLACEHOLDER until the tokenizer.json writer lands. */
    @Override
    public void save(Path file) {
        throw new UnsupportedOperationException("saving the byte tokenizer as tokenizer.json is not built yet");
    }
}
