package ai.behemoth.sweep;

import ai.behemoth.report.MetricsLog;
import ai.behemoth.report.StepRecord;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The runs registry, {@code ROOT/index.jsonl}: one JSON object a line per run folder ({@link Entry}).
 * Updating a run rewrites the file (by way of a temporary name) with that run's line replaced.
 */
public final class RunRegistry {
    public static final String FILE = "index.jsonl";
    public static final String RUNNING = "running", FINISHED = "finished", FAILED = "failed";

    /**
     * One run.
     *
     * @param id         {@code sweep/variant}
     * @param folder     the run folder, relative to the registry's root
     * @param diff       the flags that set it apart from its sweep's base
     * @param status     {@link #RUNNING}, {@link #FINISHED} or {@link #FAILED}
     * @param step       the last step logged
     * @param valLoss    final validation loss (nats per token); null before the run ends
     * @param valBpb     final validation bits per byte
     * @param tokensPerS the median training throughput
     * @param flops      training FLOPs of the final trajectory: FLOPs per token × steps × batch × context
     * @param cost       the run's cost at the rate of its last invocation ({@code --price-*} flags)
     * @param error      why a failed run failed
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Entry(String id, String folder, Map<String, Object> diff, String status, Long step, Double valLoss,
                        Double valBpb, Double tokensPerS, Double flops, Double cost, String error) {}

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private RunRegistry() {}

    public static List<Entry> read(Path root) throws IOException {
        Path file = root.resolve(FILE);
        List<Entry> out = new ArrayList<>();
        if (!Files.exists(file)) return out;
        int number = 0;
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            number++;
            if (line.isBlank()) continue;
            try {
                out.add(JSON.readValue(line, Entry.class));
            } catch (JsonProcessingException e) {
                throw new IOException(file + " line " + number + ": not a run entry (" + e.getOriginalMessage() + ")");
            }
        }
        return out;
    }

    /** Writes {@code entry} in place of the line of the same folder, or appends it. */
    public static void put(Path root, Entry entry) throws IOException {
        Map<String, Entry> byFolder = new LinkedHashMap<>();
        for (Entry e : read(root)) byFolder.put(e.folder(), e);
        byFolder.put(entry.folder(), entry);
        List<String> lines = new ArrayList<>();
        for (Entry e : byFolder.values()) lines.add(JSON.writeValueAsString(e));
        Files.createDirectories(root);
        Path file = root.resolve(FILE), tmp = root.resolve("." + FILE + ".tmp");
        Files.write(tmp, lines, StandardCharsets.UTF_8);
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The entry of the run in {@code runDir} as its metrics.jsonl tells it. */
    public static Entry measure(Path root, Path runDir, String id, Map<String, Object> diff, String status, String error)
            throws IOException {
        String folder = root.toAbsolutePath().normalize().relativize(runDir.toAbsolutePath().normalize()).toString();
        Path metrics = runDir.resolve("metrics.jsonl");
        if (!Files.isRegularFile(metrics)) return new Entry(id, folder, diff, status, null, null, null, null, null, null, error);
        MetricsLog log;
        try {
            log = MetricsLog.read(metrics);
        } catch (IOException e) {
            return new Entry(id, folder, diff, status, null, null, null, null, null, null, error);
        }
        List<StepRecord> steps = log.steps();
        StepRecord last = steps.getLast();
        Double valLoss = null, valBpb = null;
        for (StepRecord r : steps.reversed())
            if (Double.isFinite(r.valLoss())) {
                valLoss = r.valLoss();
                valBpb = Double.isFinite(r.valBpb()) ? r.valBpb() : null;
                break;
            }
        double[] rates = steps.stream().mapToDouble(StepRecord::tokensPerS).filter(Double::isFinite).sorted().toArray();
        Double flops = null, cost = null;
        JsonNode summary = log.summary(), config = log.config();
        if (summary != null && config != null && summary.has("flops_per_token")) {
            long tokensPerStep = config.path("options").path("batch").asLong() * config.path("model").path("context").asLong();
            flops = summary.get("flops_per_token").asDouble() * last.step() * tokensPerStep;
            double invocation = summary.path("flops").asDouble();
            if (summary.has("cost") && invocation > 0) cost = summary.get("cost").asDouble() * flops / invocation;
        }
        return new Entry(id, folder, diff, status, last.step(), valLoss, valBpb,
                rates.length == 0 ? null : rates[rates.length / 2], flops, cost, error);
    }
}
