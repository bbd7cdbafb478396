package ai.behemoth.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The report's "What each expert eats" section, from {@code RUN_DIR/experts.json} ({@link RunReport#EXPERTS}) as
 * {@code behemoth inspect experts} writes it: per MoE layer, a table of experts with their load
 * share, dead mark, most frequent tokens and the context of the first. Absent file, no section.
 */
final class ExpertsSection {
    private ExpertsSection() {}

    static void append(StringBuilder h, Path runDir) {
        Path file = runDir.resolve(RunReport.EXPERTS);
        if (!Files.isRegularFile(file)) return;
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(file.toFile());
        } catch (IOException e) {
            h.append("<h2 id=\"eats\">What each expert eats</h2>\n<p>").append(RunReport.esc(file + ": unreadable (" + e.getMessage() + ")"))
                    .append("</p>\n");
            return;
        }
        h.append("<h2 id=\"eats\">What each expert eats</h2>\n<p class=\"meta\">")
                .append(String.format(Locale.ROOT, "%,d tokens routed through the checkpoint (behemoth inspect experts), top-%d, windows of %d.",
                        root.path("tokens").asLong(), root.path("top_k").asInt(), root.path("context").asInt()))
                .append("</p>\n");
        for (JsonNode layer : root.path("layers")) {
            h.append(String.format(Locale.ROOT, "<h3>Layer %d: router entropy %.3f nats, MaxVio %.2f, %d dead</h3>\n",
                    layer.path("layer").asInt(), layer.path("entropy").asDouble(), layer.path("max_vio").asDouble(),
                    layer.path("dead").asInt()));
            h.append("<table>\n<tr><th>expert</th><th>share</th><th>assignments</th><th>most frequent tokens (count)</th><th>context of the first</th></tr>\n");
            for (JsonNode e : layer.path("experts")) {
                StringBuilder tops = new StringBuilder();
                for (JsonNode t : e.path("top_tokens")) {
                    if (!tops.isEmpty()) tops.append(", ");
                    tops.append('\u201c').append(t.path("text").asText()).append('\u201d').append(" (").append(t.path("count").asLong()).append(')');
                }
                JsonNode first = e.path("top_tokens").path(0);
                h.append("<tr><td class=\"num\">").append(e.path("expert").asInt()).append("</td><td class=\"num\">")
                        .append(String.format(Locale.ROOT, "%.1f%%", 100 * e.path("share").asDouble())).append("</td><td class=\"num\">")
                        .append(e.path("assignments").asLong()).append("</td><td>")
                        .append(e.path("dead").asBoolean() ? "<b>dead</b>" : RunReport.esc(tops.toString())).append("</td><td><code>")
                        .append(first.isMissingNode() ? "" : RunReport.esc(first.path("context").asText())).append("</code></td></tr>\n");
            }
            h.append("</table>\n");
        }
    }
}
