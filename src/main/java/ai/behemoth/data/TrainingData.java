package ai.behemoth.data;

import ai.behemoth.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Token streams for training and validation, with the number of text bytes each stands for (so
 * that a loss in nats per token converts to bits per byte).
 */
public record TrainingData(int[] train, int[] val, long trainBytes, long valBytes) {

    /** The share of a single document held out for validation: its final 10%, as nanoGPT does. */
    public static final double VAL_FRACTION = 0.1;

    /**
     * Loads {@code data}: null is the bundled Shakespeare and a UTF-8 text file is one document,
     * both tokenized here; a folder written by {@code behemoth data prepare} gives its shards, after
     * checking that {@code tokenizer} is the one that made them and that every shard is intact.
     */
    public static TrainingData load(Path data, Tokenizer tokenizer) throws IOException {
        if (data == null) return fromText(BundledCorpus.shakespeare(), tokenizer);
        if (Files.isDirectory(data)) return fromShards(data, tokenizer);
        return fromText(Files.readString(data, StandardCharsets.UTF_8), tokenizer);
    }

    /** The train and validation tokens of a prepared shard folder. */
    public static TrainingData fromShards(Path folder, Tokenizer tokenizer) throws IOException {
        if (!Files.isRegularFile(folder.resolve(Manifest.FILE)))
            throw new IOException(folder + ": not a prepared data folder (no " + Manifest.FILE + "; make one with behemoth data prepare)");
        Manifest m = Manifest.read(folder);
        Manifest.TokenizerInfo made = m.tokenizer();
        if (made.vocabSize() != tokenizer.vocabSize() || !made.vocabSha256().equals(TokenizerIdentity.vocabSha256(tokenizer)))
            throw new IOException(folder.resolve(Manifest.FILE) + ": the shards were made with tokenizer " + made.spec()
                    + " (vocabulary " + made.vocabSize() + ", vocab_sha256 " + made.vocabSha256().substring(0, 12)
                    + "...), which is not the tokenizer given (vocabulary " + tokenizer.vocabSize() + ")");
        return new TrainingData(Shards.read(folder, m.train(), m.dtype()), Shards.read(folder, m.val(), m.dtype()),
                m.train().bytes(), m.val().bytes());
    }

    /** One document: the first 90% (by characters) trains, the final 10% validates. */
    public static TrainingData fromText(String text, Tokenizer tokenizer) {
        int cut = validationStart(text, VAL_FRACTION);
        String train = text.substring(0, cut), val = text.substring(cut);
        return new TrainingData(tokenizer.encode(train), tokenizer.encode(val),
                train.getBytes(StandardCharsets.UTF_8).length, val.getBytes(StandardCharsets.UTF_8).length);
    }

    /**
     * Where the validation part of a single document starts: its final {@code valFraction} of
     * characters, moved back one when the cut would split a surrogate pair.
     */
    public static int validationStart(String text, double valFraction) {
        int cut = (int) (text.length() * (1 - valFraction));
        if (cut > 0 && cut < text.length() && Character.isLowSurrogate(text.charAt(cut))) cut--;
        return cut;
    }
}
