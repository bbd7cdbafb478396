package ai.behemoth.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The contents of a run's {@code metrics.jsonl}: one JSON object a line, either a step record
 * ({@link StepRecord}: {@code step}, {@code train_loss}, {@code val_loss} and {@code val_bpb} when
 * evaluated, {@code lr}, {@code grad_norm}, {@code tokens_per_s}, {@code experts}: a list of
 * {@code {layer, load, max_vio, dead, entropy, aux, z}}) or, when it has an {@code event} field, a
 * {@link RunEvent}. Only {@code step} is required in a step record; a number may also be written as
 * {@code NaN}, {@code Infinity}, {@code "NaN"} or {@code null}. Blank lines are ignored.
 *
 * <p>A rollback to step S moves the records above S logged before it to {@link #abandoned()}, so
 * {@link #steps()} is the trajectory the final model actually followed.
 *
 * @param steps     the step records of the final trajectory, in log order
 * @param abandoned step records undone by rollbacks
 * @param events    all events in log order, config and summary included
 * @param config    the last {@code config} event, or null
 * @param summary   the last {@code summary} event, or null
 */
public record MetricsLog(List<StepRecord> steps, List<StepRecord> abandoned, List<RunEvent> events,
                         ObjectNode config, ObjectNode summary) {

    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .build();

    /** Reads {@code file}; any problem is an IOException whose message names the file and line. */
    public static MetricsLog read(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new NoSuchFileException(file.toString());
        List<StepRecord> steps = new ArrayList<>(), abandoned = new ArrayList<>();
        List<RunEvent> events = new ArrayList<>();
        ObjectNode config = null, summary = null;
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) continue;
                String where = file + " line " + number;
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (JsonProcessingException e) {
                    throw new IOException(where + ": not valid JSON (" + e.getOriginalMessage() + ")");
                }
                if (!(node instanceof ObjectNode object)) throw new IOException(where + ": expected a JSON object");
                try {
                    if (object.has("event")) {
                        RunEvent event = event(object);
                        events.add(event);
                        switch (event.kind()) {
                            case RunEvent.CONFIG -> config = object;
                            case RunEvent.SUMMARY -> summary = object;
                            case RunEvent.ROLLBACK -> {
                                // Records above the restored step were undone: keep them apart.
                                for (int i = steps.size() - 1; i >= 0; i--)
                                    if (steps.get(i).step() > event.toStep()) abandoned.add(steps.remove(i));
                            }
                            default -> {}
                        }
                    } else {
                        steps.add(step(object));
                    }
                } catch (IllegalArgumentException e) {
                    throw new IOException(where + ": " + e.getMessage());
                }
            }
        } catch (java.nio.charset.MalformedInputException e) {
            throw new IOException(file + ": not UTF-8 text");
        }
        if (steps.isEmpty() && abandoned.isEmpty())
            throw new IOException(file + ": no step records (the file is empty or holds only events)");
        return new MetricsLog(List.copyOf(steps), List.copyOf(abandoned.reversed()), List.copyOf(events), config, summary);
    }

    private static StepRecord step(ObjectNode o) {
        long step = integer(o, "step", true);
        List<LayerLoad> experts = new ArrayList<>();
        JsonNode list = o.get("experts");
        if (list != null && !list.isNull()) {
            if (!list.isArray()) throw new IllegalArgumentException("field experts must be a list");
            for (JsonNode layer : list) {
                if (!(layer instanceof ObjectNode l)) throw new IllegalArgumentException("each entry of experts must be an object");
                experts.add(layer(l));
            }
        }
        return new StepRecord(step, number(o, "train_loss"), number(o, "val_loss"), number(o, "val_bpb"),
                number(o, "lr"), number(o, "grad_norm"), number(o, "tokens_per_s"), List.copyOf(experts));
    }

    private static LayerLoad layer(ObjectNode o) {
        int layer = (int) integer(o, "layer", true);
        JsonNode loads = o.get("load");
        if (loads == null || !loads.isArray() || loads.isEmpty())
            throw new IllegalArgumentException("experts entry for layer " + layer + ": field load must be a non-empty list of numbers");
        double[] load = new double[loads.size()];
        for (int e = 0; e < load.length; e++) {
            JsonNode v = loads.get(e);
            if (!v.isNumber()) throw new IllegalArgumentException("experts entry for layer " + layer + ": load[" + e + "] is not a number");
            load[e] = v.asDouble();
        }
        long dead = integer(o, "dead", false);
        return new LayerLoad(layer, load, number(o, "max_vio"), (int) Math.max(dead, 0),
                number(o, "entropy"), number(o, "aux"), number(o, "z"));
    }

    private static RunEvent event(ObjectNode o) {
        JsonNode kind = o.get("event");
        if (!kind.isTextual() || kind.asText().isBlank()) throw new IllegalArgumentException("field event must be a non-empty string");
        String name = kind.asText();
        boolean stepOptional = name.equals(RunEvent.CONFIG) || name.equals(RunEvent.SUMMARY);
        long step = integer(o, "step", !stepOptional);
        long toStep = -1;
        if (name.equals(RunEvent.ROLLBACK)) {
            toStep = integer(o, "to_step", true);
            if (toStep > step) throw new IllegalArgumentException("rollback to_step " + toStep + " is after its step " + step);
        }
        JsonNode reason = o.get("reason");
        return new RunEvent(step, name, reason == null || reason.isNull() ? "" : reason.asText(), toStep, o);
    }

    /** A non-negative integer field; -1 when absent and not required. */
    private static long integer(ObjectNode o, String field, boolean required) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) {
            if (required) throw new IllegalArgumentException("missing field " + field);
            return -1;
        }
        if (!v.canConvertToExactIntegral() || v.asLong() < 0)
            throw new IllegalArgumentException("field " + field + " must be a non-negative integer, got " + v);
        return v.asLong();
    }

    /** A numeric field: NaN when absent or null; "NaN" and "Infinity" as strings are what Jackson writes by default. */
    private static double number(ObjectNode o, String field) {
        JsonNode v = o.get(field);
        if (v == null || v.isNull()) return Double.NaN;
        if (v.isNumber()) return v.asDouble();
        if (v.isTextual()) {
            switch (v.asText()) {
                case "NaN": return Double.NaN;
                case "Infinity": return Double.POSITIVE_INFINITY;
                case "-Infinity": return Double.NEGATIVE_INFINITY;
                default: break;
            }
        }
        throw new IllegalArgumentException("field " + field + " must be a number, got " + v);
    }
}
