package ai.behemoth.eval;

import ai.behemoth.generate.LanguageModel;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The model an evaluation runs on, and the exact bytes it consists of: every regular file of a
 * checkpoint folder (weights, config, tokenizer, and optimizer/trainer state when present: a
 * different {@code trainer.json} can change routing), or the one {@code .gguf} file. Loading goes
 * through {@link #load} alone, so that a new model format is one more case there.
 */
public final class ModelSource {
    private ModelSource() {}

    public static boolean isGguf(Path model) {
        return model.getFileName() != null && model.getFileName().toString().endsWith(".gguf");
    }

    public static LanguageModel load(Path model) throws IOException {
        return LanguageModel.load(model);
    }

    /** SHA-256 of each file of the model, by file name (sorted). */
    public static Map<String, String> fileHashes(Path model) throws IOException {
        if (!Files.exists(model)) throw new NoSuchFileException(model.toString());
        Map<String, String> hashes = new LinkedHashMap<>();
        if (!Files.isDirectory(model)) {
            hashes.put(model.getFileName().toString(), Hashes.sha256(model));
            return hashes;
        }
        List<Path> files = new ArrayList<>();
        try (Stream<Path> list = Files.list(model)) {
            list.filter(Files::isRegularFile).sorted().forEach(files::add);
        }
        for (Path f : files) hashes.put(f.getFileName().toString(), Hashes.sha256(f));
        return hashes;
    }

    /** The file the tokenizer comes from: {@code tokenizer.json} of a checkpoint, or the GGUF itself. */
    public static String tokenizerFile(Path model) {
        return isGguf(model) ? model.getFileName().toString() : "tokenizer.json";
    }
}
