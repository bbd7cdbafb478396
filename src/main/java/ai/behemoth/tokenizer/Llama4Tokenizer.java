package ai.behemoth.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Byte-level BPE under Llama 4's pre-tokenizer ({@link PreTokenizer#splitLlama4}, llama.cpp's
 * {@code llama4}): each pre-token is merged by {@link BpeTokenizer#encodePiece}, so the merges and
 * the vocabulary are {@code bpe}'s and only the split differs from Llama 3's.
 */
final class Llama4Tokenizer implements Tokenizer {
    private final BpeTokenizer bpe;

    Llama4Tokenizer(BpeTokenizer bpe) {
        this.bpe = bpe;
    }

    @Override
    public int vocabSize() {
        return bpe.vocabSize();
    }

    @Override
    public int[] encode(String text) {
        List<int[]> pieces = new ArrayList<>();
        PreTokenizer.splitLlama4(text, (start, end) -> pieces.add(bpe.encodePiece(text.substring(start, end))));
        int[] ids = new int[pieces.stream().mapToInt(p -> p.length).sum()];
        int k = 0;
        for (int[] p : pieces) {
            System.arraycopy(p, 0, ids, k, p.length);
            k += p.length;
        }
        return ids;
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

    /** Behemoth's tokenizer.json writer holds the Llama 3 split only. */
    @Override
    public void save(Path file) throws IOException {
        throw new IOException(file + ": a tokenizer with the llama4 pre-tokenizer cannot be saved as tokenizer.json by Behemoth");
    }
}
