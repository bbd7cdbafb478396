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
     * Loads {@code data} (null: the bundled Shakespeare; a UTF-8 text file: one document) and
     * tokenizes it. PLACEHOLDER for prepared shard folders, which the data pipeline adds.
     */
    public static TrainingData load(Path data, Tokenizer tokenizer) throws IOException {
        if (data == null) return fromText(BundledCorpus.shakespeare(), tokenizer);
        if (Files.isDirectory(data)) throw new IOException(data + ": reading prepared shard folders is not built yet");
        return fromText(Files.readString(data, StandardCharsets.UTF_8), tokenizer);
    }

    /** One document: the first 90% (by characters) trains, the final 10% validates. */
    public static TrainingData fromText(String text, Tokenizer tokenizer) {
        int cut = (int) (text.length() * (1 - VAL_FRACTION));
        if (cut > 0 && Character.isLowSurrogate(text.charAt(cut))) cut--; // never split a surrogate pair
        String train = text.substring(0, cut), val = text.substring(cut);
        return new TrainingData(tokenizer.encode(train), tokenizer.encode(val),
                train.getBytes(StandardCharsets.UTF_8).length, val.getBytes(StandardCharsets.UTF_8).length);
    }
}
