package ai.behemoth.data;

import ai.behemoth.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * What a shard folder records about the tokenizer that made it.
 *
 * <p>{@code sha256} identifies the SPEC: the bytes of the {@code tokenizer.json} file, or the
 * string {@code "bytes"} for the byte tokenizer. It is what eval cards and audits compare.
 * {@code vocab_sha256} is computed from a loaded {@link Tokenizer} itself (every token's bytes, in
 * id order), so a reader that holds only a Tokenizer can check it was given the right one.
 */
public final class TokenizerIdentity {
    private TokenizerIdentity() {}

    /** The name of the tokenizer whose ids are its bytes; {@code Tokenizers.load} knows it by this. */
    public static final String BYTES_SPEC = "bytes";

    /** The SHA-256 of a tokenizer SPEC: of the file's bytes, or of the string "bytes". */
    public static String specSha256(String spec) throws IOException {
        if (spec.equals(BYTES_SPEC)) return Sha256.hex(BYTES_SPEC.getBytes(StandardCharsets.UTF_8));
        return Sha256.hex(Files.readAllBytes(Path.of(spec)));
    }

    /** The SHA-256 of the vocabulary: for each id in order, the length and bytes of its token. */
    public static String vocabSha256(Tokenizer tokenizer) {
        MessageDigest digest = Sha256.digest();
        ByteBuffer length = ByteBuffer.allocate(Integer.BYTES);
        for (int id = 0; id < tokenizer.vocabSize(); id++) {
            byte[] token = tokenizer.tokenBytes(id);
            digest.update(length.clear().putInt(token.length).array());
            digest.update(token);
        }
        return Sha256.hex(digest);
    }
}
