package ai.behemoth.eval;

import ai.behemoth.Version;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Where a card was made: project version and git commit, and the machine. */
final class Provenance {
    private Provenance() {}

    static ObjectNode project() {
        ObjectNode p = JsonNodeFactory.instance.objectNode();
        p.put("version", Version.get());
        p.put("git_commit", gitCommit());
        return p;
    }

    static ObjectNode machine() {
        ObjectNode m = JsonNodeFactory.instance.objectNode();
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"));
        m.put("arch", System.getProperty("os.arch"));
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("java", Runtime.version().toString() + " (" + System.getProperty("java.vendor") + ")");
        return m;
    }

    /**
     * The commit of the source tree the running jar was built in ({@code target/..} of its location),
     * asked of {@code git} with a short timeout; null when there is no git, no repository, or no
     * answer (an installed jar cannot know).
     */
    static String gitCommit() {
        try {
            Path jar = Path.of(Provenance.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path root = jar.getParent() == null ? null : jar.getParent().getParent();
            if (root == null || !Files.exists(root.resolve(".git"))) return null;
            Process git = new ProcessBuilder("git", "-C", root.toString(), "rev-parse", "HEAD")
                    .redirectErrorStream(true).start();
            if (!git.waitFor(2, TimeUnit.SECONDS)) {
                git.destroy();
                return null;
            }
            String out = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            return git.exitValue() == 0 && out.matches("[0-9a-f]{40}") ? out : null;
        } catch (Exception e) {
            return null; // provenance is best-effort: no git is not an error
        }
    }
}
