package ai.behemoth.data;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * An output folder written under a temporary name beside its final place and renamed there when
 * complete, so that a failure never leaves a half-written folder. Folders created above it are
 * removed again when the work is abandoned.
 */
final class StagingFolder {
    private final Path target;
    private final Path temporary;
    private final Path createdAncestor; // the highest folder this created above target, or null

    private StagingFolder(Path target, Path temporary, Path createdAncestor) {
        this.target = target;
        this.temporary = temporary;
        this.createdAncestor = createdAncestor;
    }

    /** Starts writing {@code target}; an existing non-empty target is an error unless {@code replace}. */
    static StagingFolder create(Path target, boolean replace) throws IOException {
        target = target.toAbsolutePath().normalize();
        if (Files.isRegularFile(target) && !replace)
            throw new IOException("output folder " + target + " is an existing file (use --force to replace it)");
        if (Files.isDirectory(target) && !replace && !isEmpty(target))
            throw new IOException("output folder " + target + " exists and is not empty (use --force to replace it)");
        Path parent = target.getParent();
        Path firstMissing = null;
        for (Path p = parent; p != null && !Files.exists(p); p = p.getParent()) firstMissing = p;
        Path existing = firstMissing == null ? parent : firstMissing.getParent();
        if (existing != null && !Files.isDirectory(existing))
            throw new IOException("cannot write output folder " + target + ": " + existing + " is not a folder");
        try {
            Files.createDirectories(parent);
            Path temporary = Files.createTempDirectory(parent, "." + target.getFileName() + ".tmp-");
            return new StagingFolder(target, temporary, firstMissing);
        } catch (FileSystemException e) {
            if (firstMissing != null) deleteTree(firstMissing);
            String why = e instanceof AccessDeniedException ? "permission denied" : e.getReason();
            throw new IOException("cannot write output folder " + target + ": " + why + " (" + e.getFile() + ")");
        }
    }

    /** Where to write the contents. */
    Path path() {
        return temporary;
    }

    Path target() {
        return target;
    }

    /** Moves the finished folder into place, replacing whatever was there. */
    void commit() throws IOException {
        Path old = null;
        if (Files.exists(target)) {
            old = target.resolveSibling("." + target.getFileName() + ".old-" + temporary.getFileName());
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
        if (old != null) deleteTree(old);
    }

    /** Removes everything this wrote: the temporary folder and the folders created above it. */
    void abandon() throws IOException {
        deleteTree(createdAncestor != null ? createdAncestor : temporary);
    }

    private static boolean isEmpty(Path folder) throws IOException {
        try (Stream<Path> entries = Files.list(folder)) {
            return entries.findAny().isEmpty();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) return;
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
