package ai.behemoth.tokenizer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * Text to token ids and back. Decoding the ids of any text gives back exactly its UTF-8 bytes:
 * a tokenizer never normalises.
 */
public interface Tokenizer {
    int vocabSize();

    /** The ids of {@code text}; special-token strings in it are encoded as ordinary text. */
    int[] encode(String text);

    /** The exact bytes the ids stand for (special tokens give their text). */
    byte[] decode(int[] ids);

    /** The bytes of one token, for streaming output (may be part of a UTF-8 sequence). */
    byte[] tokenBytes(int id);

    /** The id of a special token such as {@code <|end_of_text|>}, when this tokenizer has it. */
    OptionalInt specialToken(String text);

    /** Writes this tokenizer as a Hugging Face {@code tokenizer.json}. */
    void save(Path file) throws IOException;
}
