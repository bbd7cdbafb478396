package ai.behemoth.eval;

import ai.behemoth.data.BundledCorpus;
import ai.behemoth.data.TrainingData;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Evaluation data as exact bytes (what the card hashes) and its UTF-8 text. {@code name} is a file
 * path, or {@value #SHAKESPEARE} for the held-out split of the bundled corpus (its final
 * {@link TrainingData#VAL_FRACTION}, the text training never sees).
 */
public record EvalData(String name, byte[] bytes, String text) {
    public static final String SHAKESPEARE = "shakespeare";

    public static EvalData load(String name) throws IOException {
        if (name.equals(SHAKESPEARE)) return shakespeareHeldOut();
        Path file = Path.of(name);
        if (Files.isDirectory(file)) throw new IOException(file + ": is a folder, not a text file");
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString());
        byte[] bytes = Files.readAllBytes(file);
        if (bytes.length == 0) throw new IOException(file + ": empty (no text to evaluate)");
        return new EvalData(name, bytes, utf8(file.toString(), bytes));
    }

    /** The final 10% of the bundled Shakespeare, split exactly as training splits it. */
    public static EvalData shakespeareHeldOut() {
        String all = BundledCorpus.shakespeare();
        String val = all.substring(TrainingData.validationStart(all, TrainingData.VAL_FRACTION));
        return new EvalData(SHAKESPEARE, val.getBytes(StandardCharsets.UTF_8), val);
    }

    public String sha256() {
        return Hashes.sha256(bytes);
    }

    /** Strict UTF-8: a file that is not text is an error naming it, not replacement characters. */
    static String utf8(String name, byte[] bytes) throws IOException {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new IOException(name + ": not UTF-8 text", e);
        }
    }
}
