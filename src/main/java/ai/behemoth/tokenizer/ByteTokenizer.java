package ai.behemoth.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
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

    /** Writes byte-level BPE without merges: the 256 byte symbols as vocabulary, id = byte value. */
    @Override
    public void save(Path file) throws IOException {
        byte[][] tokens = new byte[256][];
        for (int b = 0; b < 256; b++) tokens[b] = new byte[]{(byte) b};
        TokenizerJson.write(file, tokens, new int[0][], Map.of(), false);
    }
}
