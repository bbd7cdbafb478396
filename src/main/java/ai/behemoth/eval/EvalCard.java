package ai.behemoth.eval;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The eval card: one JSON file that binds scores to the exact bytes evaluated.
 *
 * <pre>
 * format      "behemoth-eval-card/1"
 * kind        perplexity | choice | stability
 * created     UTC time;  command: the full command line;  project {version, git_commit};  machine {os, arch, cores, java}
 * model       {path, format: checkpoint|gguf, files: {name: sha256}, config: the model's config.json}
 * tokenizer   {file, sha256}          data {name, sha256, bytes}
 * settings    what the evaluation needs to be run again (window, stride, seeds, ...), bootstrap {resamples, seed}
 * scores      {metric: {value, ci95: [low, high], description}}
 * items       {unit, columns: {name: [per-item numbers]}, metrics: [{name, numerator, denominator, scale}]}
 * samples     optional per-item log (--log-samples)
 * signature   optional {algorithm: Ed25519, public_key (X.509, base64), key_sha256, value (base64)}
 * </pre>
 *
 * The signature covers the card's canonical form: every field but {@code signature}, object keys
 * sorted at every level, no whitespace.
 */
public final class EvalCard {
    private EvalCard() {}

    public static final String FORMAT = "behemoth-eval-card/1";
    static final ObjectMapper JSON = new ObjectMapper();

    /** What an evaluation ran on and how; the scores are added by {@link #create}. */
    public record Inputs(String kind, String command, Path model, String configJson, String dataName, byte[] dataBytes,
                         ObjectNode settings) {}

    public static ObjectNode create(Inputs in, ItemScores scores, int resamples, long seed, ArrayNode samples) throws IOException {
        ObjectNode card = JSON.createObjectNode();
        card.put("format", FORMAT);
        card.put("kind", in.kind());
        card.put("created", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        card.put("command", in.command());
        card.set("project", Provenance.project());
        card.set("machine", Provenance.machine());
        ObjectNode model = card.putObject("model");
        model.put("path", in.model().toAbsolutePath().normalize().toString());
        model.put("format", ModelSource.isGguf(in.model()) ? "gguf" : "checkpoint");
        Map<String, String> hashes = ModelSource.fileHashes(in.model());
        ObjectNode files = model.putObject("files");
        hashes.forEach(files::put);
        model.set("config", JSON.readTree(in.configJson()));
        ObjectNode tokenizer = card.putObject("tokenizer");
        String tokenizerFile = ModelSource.tokenizerFile(in.model());
        tokenizer.put("file", tokenizerFile);
        tokenizer.put("sha256", hashes.get(tokenizerFile));
        ObjectNode data = card.putObject("data");
        data.put("name", in.dataName());
        data.put("sha256", Hashes.sha256(in.dataBytes()));
        data.put("bytes", in.dataBytes().length);
        ObjectNode settings = in.settings().deepCopy();
        ObjectNode bootstrap = settings.putObject("bootstrap");
        bootstrap.put("resamples", resamples);
        bootstrap.put("seed", seed);
        card.set("settings", settings);
        card.set("scores", scoresNode(scores, resamples, seed));
        card.set("items", itemsNode(scores));
        if (samples != null) card.set("samples", samples);
        return card;
    }

    static ObjectNode scoresNode(ItemScores scores, int resamples, long seed) {
        ObjectNode node = JSON.createObjectNode();
        for (ItemScores.Metric m : scores.metrics()) {
            Bootstrap.Interval ci = scores.interval(m, resamples, seed);
            ObjectNode s = node.putObject(m.name());
            s.put("value", ci.value());
            s.putArray("ci95").add(ci.low()).add(ci.high());
            s.put("description", m.description());
        }
        return node;
    }

    static ObjectNode itemsNode(ItemScores scores) {
        ObjectNode node = JSON.createObjectNode();
        node.put("unit", scores.unit());
        node.put("count", scores.items());
        ObjectNode columns = node.putObject("columns");
        scores.columns().forEach((name, values) -> {
            ArrayNode a = columns.putArray(name);
            for (double v : values) {
                if (v == Math.rint(v) && Math.abs(v) < 1e15) a.add((long) v); // counts stay integers: a compact card
                else a.add(v);
            }
        });
        ArrayNode metrics = node.putArray("metrics");
        for (ItemScores.Metric m : scores.metrics()) {
            ObjectNode o = metrics.addObject();
            o.put("name", m.name());
            o.put("numerator", m.numerator());
            if (m.denominator() == null) o.putNull("denominator");
            else o.put("denominator", m.denominator());
            o.put("scale", m.scale());
            o.put("description", m.description());
        }
        return node;
    }

    /** The per-item scores stored in a card, to bootstrap comparisons. */
    public static ItemScores items(ObjectNode card, String where) throws IOException {
        JsonNode items = require(card, "items", where);
        Map<String, double[]> columns = new LinkedHashMap<>();
        Iterator<Map.Entry<String, JsonNode>> it = require(items, "columns", where).fields();
        while (it.hasNext()) {
            var e = it.next();
            double[] v = new double[e.getValue().size()];
            for (int i = 0; i < v.length; i++) v[i] = e.getValue().get(i).asDouble();
            columns.put(e.getKey(), v);
        }
        List<ItemScores.Metric> metrics = new ArrayList<>();
        for (JsonNode m : require(items, "metrics", where)) {
            JsonNode den = m.get("denominator");
            metrics.add(new ItemScores.Metric(m.path("name").asText(), m.path("numerator").asText(),
                    den == null || den.isNull() ? null : den.asText(), m.path("scale").asDouble(1), m.path("description").asText("")));
        }
        try {
            return new ItemScores(items.path("unit").asText(), columns, metrics);
        } catch (IllegalArgumentException e) {
            throw new IOException(where + ": items: " + e.getMessage());
        }
    }

    public static ObjectNode read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString());
        JsonNode node;
        try {
            node = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not a valid eval card (JSON): " + e.getOriginalMessage());
        }
        if (!(node instanceof ObjectNode card) || !FORMAT.equals(card.path("format").asText()))
            throw new IOException(file + ": not an eval card (no \"format\": \"" + FORMAT + "\")");
        for (String field : List.of("kind", "model", "data", "settings", "scores", "items")) require(card, field, file.toString());
        return card;
    }

    static JsonNode require(JsonNode node, String field, String where) throws IOException {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) throw new IOException(where + ": missing field \"" + field + "\"");
        return v;
    }

    /** Writes the card pretty-printed, to a temporary name in the same folder, then renames it. */
    public static void write(ObjectNode card, Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(card) + "\n", StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The bytes a signature covers: the card without {@code signature}, keys sorted, compact. */
    static byte[] canonical(ObjectNode card) {
        ObjectNode copy = card.deepCopy();
        copy.remove("signature");
        try {
            return JSON.copy().disable(SerializationFeature.INDENT_OUTPUT).writeValueAsBytes(sorted(copy));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e); // a tree always serialises
        }
    }

    private static JsonNode sorted(JsonNode node) {
        if (node.isObject()) {
            ObjectNode out = JSON.createObjectNode();
            for (String name : new TreeSet<>(iterable(node.fieldNames()))) out.set(name, sorted(node.get(name)));
            return out;
        }
        if (node.isArray()) {
            ArrayNode out = JSON.createArrayNode();
            for (JsonNode v : node) out.add(sorted(v));
            return out;
        }
        return node;
    }

    private static List<String> iterable(Iterator<String> it) {
        List<String> list = new ArrayList<>();
        it.forEachRemaining(list::add);
        return list;
    }
}
