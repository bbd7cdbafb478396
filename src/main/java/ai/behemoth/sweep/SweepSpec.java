package ai.behemoth.sweep;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A sweep: {@code behemoth train} flags shared by every variant ({@code base}) and the variants,
 * either listed ({@code variants}: objects of flags, each with an optional {@code id}) or as a grid
 * ({@code grid}: flag → list of values; every combination, the first flag varying slowest).
 * Flags are written without their dashes ({@code "lr": 0.003} is {@code --lr 0.003}); a value may
 * be a number, a string or a boolean. Example:
 * <pre>{"name": "lr", "base": {"preset": "tiny", "steps": 200}, "grid": {"lr": [1e-3, 3e-3], "batch": [4, 8]}}</pre>
 *
 * @param name     the sweep's folder under the runs root
 * @param base     flags of every variant
 * @param variants the runs, in order
 */
public record SweepSpec(String name, Map<String, String> base, List<Variant> variants) {

    /**
     * One run of the sweep.
     *
     * @param id    its folder name under the sweep's
     * @param flags all its flags, base included
     * @param diff  the flags that make it differ from the base (its own), with their JSON values
     */
    public record Variant(String id, Map<String, String> flags, Map<String, Object> diff) {}

    /** Flags a sweep sets itself. */
    public static final List<String> RESERVED = List.of("out", "resume");
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final ObjectMapper JSON = new ObjectMapper();

    public static SweepSpec read(Path file) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (!(root instanceof ObjectNode spec)) throw new IOException(file + ": expected a JSON object");
        try {
            return parse(spec, file.getFileName().toString().replaceFirst("\\.json$", ""));
        } catch (IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage());
        }
    }

    static SweepSpec parse(ObjectNode spec, String defaultName) {
        for (Iterator<String> it = spec.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!List.of("name", "base", "variants", "grid").contains(f))
                throw new IllegalArgumentException("unknown field " + f + " (expected name, base, variants or grid)");
        }
        String name = spec.has("name") ? spec.get("name").asText() : defaultName;
        if (!NAME.matcher(name).matches())
            throw new IllegalArgumentException("name '" + name + "' must be letters, digits, '.', '_' or '-'");
        Map<String, String> base = flags("base", spec.get("base"));
        if (spec.has("variants") == spec.has("grid"))
            throw new IllegalArgumentException("give either variants (a list) or grid (flag -> list of values), not " + (spec.has("grid") ? "both" : "neither"));
        List<Map<String, JsonNode>> own = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        if (spec.has("variants")) {
            JsonNode list = spec.get("variants");
            if (!list.isArray() || list.isEmpty()) throw new IllegalArgumentException("variants must be a non-empty list of objects");
            for (int i = 0; i < list.size(); i++) {
                if (!(list.get(i) instanceof ObjectNode v)) throw new IllegalArgumentException("variants[" + i + "] is not an object");
                Map<String, JsonNode> m = new LinkedHashMap<>();
                v.properties().forEach(e -> m.put(e.getKey(), e.getValue()));
                JsonNode id = m.remove("id");
                ids.add(id == null ? null : id.asText());
                own.add(m);
            }
        } else {
            if (!(spec.get("grid") instanceof ObjectNode grid) || grid.isEmpty())
                throw new IllegalArgumentException("grid must be an object of flag -> list of values");
            own.add(new LinkedHashMap<>());
            for (Map.Entry<String, JsonNode> axis : grid.properties()) {
                if (!axis.getValue().isArray() || axis.getValue().isEmpty())
                    throw new IllegalArgumentException("grid." + axis.getKey() + " must be a non-empty list");
                List<Map<String, JsonNode>> next = new ArrayList<>();
                for (Map<String, JsonNode> partial : own)
                    for (JsonNode value : axis.getValue()) {
                        Map<String, JsonNode> m = new LinkedHashMap<>(partial);
                        m.put(axis.getKey(), value);
                        next.add(m);
                    }
                own = next;
            }
            for (int i = 0; i < own.size(); i++) ids.add(null);
        }
        List<Variant> variants = new ArrayList<>();
        for (int i = 0; i < own.size(); i++) {
            Map<String, String> flags = new LinkedHashMap<>(base);
            Map<String, Object> diff = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : own.get(i).entrySet()) {
                flags.put(checkFlag(e.getKey()), value(e.getKey(), e.getValue()));
                diff.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class));
            }
            String id = ids.get(i) != null ? ids.get(i) : idOf(diff, i);
            if (!NAME.matcher(id).matches()) throw new IllegalArgumentException("variant id '" + id + "' must be letters, digits, '.', '_' or '-'");
            for (Variant v : variants)
                if (v.id().equals(id)) throw new IllegalArgumentException("two variants have the id " + id);
            variants.add(new Variant(id, flags, diff));
        }
        return new SweepSpec(name, base, variants);
    }

    /** A variant's folder name from its own flags: {@code lr-0.003_batch-8}. */
    static String idOf(Map<String, Object> diff, int index) {
        StringBuilder id = new StringBuilder();
        for (Map.Entry<String, Object> e : diff.entrySet()) {
            if (!id.isEmpty()) id.append('_');
            id.append(e.getKey()).append('-').append(e.getValue());
        }
        String clean = id.toString().replaceAll("[^A-Za-z0-9._-]", "-");
        return clean.isEmpty() ? "variant-" + index : clean;
    }

    private static Map<String, String> flags(String where, JsonNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        if (node == null) return out;
        if (!(node instanceof ObjectNode o)) throw new IllegalArgumentException(where + " must be an object of flag -> value");
        for (Map.Entry<String, JsonNode> e : o.properties()) out.put(checkFlag(e.getKey()), value(where + "." + e.getKey(), e.getValue()));
        return out;
    }

    private static String checkFlag(String flag) {
        if (RESERVED.contains(flag)) throw new IllegalArgumentException("flag " + flag + " is set by the sweep itself");
        if (!flag.matches("[a-z0-9][a-z0-9-]*")) throw new IllegalArgumentException("'" + flag + "' is not a train flag name (write lr, not --lr)");
        return flag;
    }

    private static String value(String where, JsonNode v) {
        if (v.isNumber() || v.isTextual() || v.isBoolean()) return v.asText();
        throw new IllegalArgumentException(where + " must be a number, a string or a boolean, got " + v);
    }
}
