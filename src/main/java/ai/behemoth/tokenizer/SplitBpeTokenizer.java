package ai.behemoth.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * Byte-level BPE under a pre-tokenizer other than the Llama 3 one {@link BpeTokenizer} runs itself
 * (llama.cpp's {@code qwen2}: {@link PreTokenizer#splitSingleDigits}; {@code llama4}:
 * {@link PreTokenizer#splitLlama4}): each pre-token is merged by {@link BpeTokenizer#encodePiece},
 * so the merges and the vocabulary are {@code bpe}'s and only the split differs.
 */
final class SplitBpeTokenizer implements Tokenizer {
    /** A pre-tokenizer: calls {@code pieces} for each pre-token of {@code text}, in order. */
    @FunctionalInterface
    interface Split {
        void split(String text, PreTokenizer.Pieces pieces);
    }

    private final BpeTokenizer bpe;
    private final String name;
    private final Split split;

    /** {@code name} is llama.cpp's name of the pre-tokenizer, for messages. */
    SplitBpeTokenizer(BpeTokenizer bpe, String name, Split split) {
        this.bpe = bpe;
        this.name = name;
        this.split = split;
    }

    @Override
    public int vocabSize() {
        return bpe.vocabSize();
    }

    @Override
    public int[] encode(String text) {
        List<int[]> pieces = new ArrayList<>();
        split.split(text, (start, end) -> pieces.add(bpe.encodePiece(text.substring(start, end))));
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
        throw new IOException(file + ": a tokenizer with the " + name + " pre-tokenizer cannot be saved as tokenizer.json by Behemoth");
    }
}
