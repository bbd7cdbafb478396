package ai.behemoth.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The files behind the inputs of {@code data prepare}: a file stands for itself, a folder for
 * every regular file under it (recursively, hidden ones left out), in sorted order so that the
 * same folder always gives the same documents in the same order.
 */
public final class CorpusFiles {
    private CorpusFiles() {}

    /** The files of {@code inputs}, in order; a missing input is an error naming it. */
    public static List<Path> list(List<Path> inputs) throws IOException {
        List<Path> files = new ArrayList<>();
        for (Path input : inputs) {
            if (!Files.exists(input)) throw new NoSuchFileException(input.toString());
            if (!Files.isDirectory(input)) {
                files.add(input);
                continue;
            }
            try (Stream<Path> walk = Files.walk(input)) {
                walk.filter(Files::isRegularFile)
                        .filter(p -> !isHidden(input.relativize(p)))
                        .sorted()
                        .forEachOrdered(files::add);
            }
        }
        return files;
    }

    /** The total size of {@code files} on disk, for the progress bar. */
    public static long totalBytes(List<Path> files) throws IOException {
        long total = 0;
        for (Path f : files) total += Files.size(f);
        return total;
    }

    private static boolean isHidden(Path relative) {
        for (Path part : relative) if (part.toString().startsWith(".")) return true;
        return false;
    }
}
