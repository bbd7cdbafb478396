package ai.behemoth.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedWriter;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code metrics.jsonl}: one JSON object per optimizer step, appended and flushed as each step ends,
 * so that the file is readable while the run goes on and survives a crash up to the last step.
 */
public final class Metrics implements Closeable {
    public static final String FILE = "metrics.jsonl";
    /** Event kinds this file gets from the trainer. */
    public static final String CONFIG = "config", SUMMARY = "summary";

    /**
     * One step's figures.
     *
     * @param trainLoss cross-entropy of the training batch, nats per token
     * @param valLoss   validation cross-entropy, nats per token; null when not evaluated at this step
     * @param valBpb    validation bits per byte; null when not evaluated
     * @param gradNorm  global gradient norm before clipping
     * @param experts   one entry per MoE layer, from the training batch's forward
     */
    public record Step(int step, double trainLoss, Double valLoss, Double valBpb, double lr, double gradNorm,
                       double tokensPerS, List<RouterStats> experts) {
        /** The worst MaxVio over MoE layers (0 for a dense model). */
        public double worstMaxVio() {
            double worst = 0;
            for (RouterStats s : experts) worst = Math.max(worst, s.maxVio());
            return worst;
        }

        public int deadExperts() {
            int dead = 0;
            for (RouterStats s : experts) dead += s.dead();
            return dead;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final BufferedWriter out;

    private Metrics(BufferedWriter out) {
        this.out = out;
    }

    /** Starts a new {@code file}, replacing nothing: it must not exist yet. */
    public static Metrics create(Path file) throws IOException {
        return new Metrics(Files.newBufferedWriter(file, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE));
    }

    /**
     * Continues a run resumed after {@code step}: {@code to} receives the lines of {@code from} (when
     * it exists; the two may be the same file) up to and including the last record of that step (a
     * rollback may have logged the step twice: the last one is the trajectory the checkpoint holds),
     * plus the {@code config} event, by way of a temporary file; later lines are appended. Lines
     * after it, the old {@code summary} event and a torn last line are dropped.
     */
    public static Metrics resume(Path from, Path to, int step) throws IOException {
        List<String> kept = new ArrayList<>();
        if (Files.exists(from)) {
            List<String> lines = Files.readAllLines(from, StandardCharsets.UTF_8);
            List<JsonNode> nodes = new ArrayList<>();
            int end = -1; // index of the last record of the step
            for (String line : lines) {
                JsonNode node;
                try {
                    node = JSON.readTree(line);
                } catch (IOException e) {
                    node = null; // a line torn by a crash
                }
                if (node != null && node.isObject() && !node.has("event") && node.path("step").asInt(-1) == step)
                    end = nodes.size();
                nodes.add(node);
            }
            for (int i = 0; i < nodes.size(); i++) {
                JsonNode node = nodes.get(i);
                if (node == null || !node.isObject()) continue;
                String event = node.path("event").asText();
                if (event.equals(CONFIG) || (i <= end && !event.equals(SUMMARY))) kept.add(lines.get(i));
            }
        }
        Path tmp = to.resolveSibling("." + to.getFileName() + ".tmp");
        Files.write(tmp, kept, StandardCharsets.UTF_8);
        Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return new Metrics(Files.newBufferedWriter(to, StandardCharsets.UTF_8, StandardOpenOption.APPEND));
    }

    /**
     * Appends an event line ({@code config} first, {@code summary} last; the format is
     * {@link ai.behemoth.report.RunEvent}'s): {@code fields} with {@code "event": kind} in front.
     */
    public void event(String kind, Map<String, Object> fields) throws IOException {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("event", kind);
        line.putAll(fields);
        out.write(JSON.writeValueAsString(line));
        out.newLine();
        out.flush();
    }

    public void append(Step s) throws IOException {
        out.write(toJson(s));
        out.newLine();
        out.flush();
    }

    static String toJson(Step s) throws IOException {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("step", s.step());
        line.put("train_loss", s.trainLoss());
        if (s.valLoss() != null) line.put("val_loss", s.valLoss());
        if (s.valBpb() != null) line.put("val_bpb", s.valBpb());
        line.put("lr", s.lr());
        line.put("grad_norm", s.gradNorm());
        line.put("tokens_per_s", s.tokensPerS());
        List<Map<String, Object>> experts = new ArrayList<>();
        for (RouterStats r : s.experts()) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("layer", r.layer());
            e.put("load", r.load());
            e.put("max_vio", r.maxVio());
            e.put("dead", r.dead());
            e.put("entropy", r.entropy());
            e.put("aux", r.aux());
            e.put("z", r.z());
            experts.add(e);
        }
        line.put("experts", experts);
        return JSON.writeValueAsString(line);
    }

    @Override
    public void close() throws IOException {
        out.close();
    }
}
