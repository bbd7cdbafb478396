package ai.behemoth.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Byte-level BPE under llama.cpp's {@code qwen2} pre-tokenizer. Its expression is the Llama 3 one
 * ({@link PreTokenizer#PATTERN}) with {@code \p{N}} in place of {@code \p{N}{1,3}}: at a digit no
 * other alternative can match in either expression, so the split is Llama 3's with every digit run
 * cut into single digits.
 */
final class SingleDigitTokenizer implements Tokenizer {
    private final BpeTokenizer bpe;

    SingleDigitTokenizer(BpeTokenizer bpe) {
        this.bpe = bpe;
    }

    @Override
    public int vocabSize() {
        return bpe.vocabSize();
    }

    @Override
    public int[] encode(String text) {
        List<int[]> pieces = new ArrayList<>();
        PreTokenizer.split(text, (start, end) -> {
            if (isNumber(text.codePointAt(start))) { // a \p{N}{1,3} piece: only that alternative starts with a number
                for (int i = start; i < end; i = text.offsetByCodePoints(i, 1))
                    pieces.add(bpe.encodePiece(text.substring(i, text.offsetByCodePoints(i, 1))));
            } else {
                pieces.add(bpe.encodePiece(text.substring(start, end)));
            }
        });
        int n = 0;
        for (int[] p : pieces) n += p.length;
        int[] ids = new int[n];
        int k = 0;
        for (int[] p : pieces) {
            System.arraycopy(p, 0, ids, k, p.length);
            k += p.length;
        }
        return ids;
    }

    private static boolean isNumber(int codePoint) {
        int type = Character.getType(codePoint);
        return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER || type == Character.OTHER_NUMBER;
    }

    @Override
    public byte[] decode(int[] ids) {
        return bpe.decode(ids);
    }

    @Override
    public byte[] tokenBytes(int id) {
        return bpe.tokenBytes(id);
    }

    @Override
    public OptionalInt specialToken(String text) {
        return bpe.specialToken(text);
    }

    /** Hugging Face's tokenizer.json has no place for this pre-tokenizer in Behemoth's reader. */
    @Override
    public void save(Path file) throws IOException {
        throw new IOException(file + ": a tokenizer with the qwen2 pre-tokenizer cannot be saved as tokenizer.json by Behemoth");
    }
}
