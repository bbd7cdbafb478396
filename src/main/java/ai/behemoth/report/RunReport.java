package ai.behemoth.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jfree.chart.JFreeChart;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToDoubleFunction;

/**
 * Writes a run's report: {@code RUN_DIR/report.html}, one self-contained page (plots embedded as
 * base64 PNG data URIs, no scripts, no network), and the same plots as PNG files in
 * {@code RUN_DIR/plots/}. Made from {@code RUN_DIR/metrics.jsonl} (format: {@link MetricsLog},
 * events: {@link RunEvent}) and, when present, the final checkpoint's {@code final/config.json}.
 *
 * <p>Every file is written to a temporary name in its folder and renamed, so a failure never
 * leaves a half-written report.
 */
public final class RunReport {
    static {
        // No display is needed (or wanted) to draw PNGs; set before any AWT class initialises.
        System.setProperty("java.awt.headless", "true");
    }

    public static final String METRICS = "metrics.jsonl", HTML = "report.html", PLOTS = "plots", EXPERTS = "experts.json";

    private RunReport() {}

    /** One drawn plot: file name, caption and PNG bytes. */
    record Plot(String file, String caption, byte[] png) {}

    /** Reads {@code runDir/metrics.jsonl} and writes {@code runDir/report.html} and {@code runDir/plots/}; returns the HTML's path. */
    public static Path write(Path runDir) throws IOException {
        MetricsLog log = MetricsLog.read(runDir.resolve(METRICS));
        List<Plot> plots = plots(log);
        Path plotDir = runDir.resolve(PLOTS);
        Files.createDirectories(plotDir);
        for (Plot p : plots) writeAtomically(plotDir.resolve(p.file()), p.png());
        String html = html(runDir, log, plots, modelConfig(runDir));
        Path out = runDir.resolve(HTML);
        writeAtomically(out, html.getBytes(StandardCharsets.UTF_8));
        return out;
    }

    static List<Plot> plots(MetricsLog log) throws IOException {
        List<StepRecord> steps = log.steps();
        List<RunEvent> events = log.events();
        List<Plot> plots = new ArrayList<>();

        List<Charts.Line> loss = new ArrayList<>();
        loss.add(Charts.Line.of("train", steps, StepRecord::trainLoss));
        loss.add(Charts.Line.of("validation", steps, StepRecord::valLoss, false, false));
        if (!log.abandoned().isEmpty())
            loss.add(Charts.Line.of("train, rolled back", log.abandoned(), StepRecord::trainLoss, true, true));
        loss.removeIf(l -> !l.hasData());
        // Validation is logged only at evaluation steps: connect its points rather than leaving gaps.
        loss = loss.stream().map(l -> l.name().equals("validation") ? onlyFinite(l) : l).toList();
        add(plots, "loss.png", "Training and validation loss (nats per token)",
                Charts.lines("Loss", "nats / token", loss, events, false, false));
        add(plots, "lr.png", "Learning rate", Charts.lines("Learning rate", "learning rate",
                List.of(Charts.Line.of("lr", steps, StepRecord::lr)), events, false, false));
        List<Charts.Line> grad = new ArrayList<>();
        grad.add(Charts.Line.of("gradient norm", steps, StepRecord::gradNorm));
        if (!log.abandoned().isEmpty())
            grad.add(Charts.Line.of("rolled back", log.abandoned(), StepRecord::gradNorm, true, true));
        boolean log10 = grad.stream().anyMatch(RunReport::wideRange);
        add(plots, "grad_norm.png", "Global gradient norm before clipping" + (log10 ? " (log scale)" : ""),
                Charts.lines("Gradient norm", "norm", grad, events, log10, false));
        add(plots, "tokens_per_s.png", "Training throughput",
                Charts.lines("Throughput", "tokens / s", List.of(Charts.Line.of("tokens/s", steps, StepRecord::tokensPerS)),
                        events, false, false));

        TreeSet<Integer> layers = new TreeSet<>();
        for (StepRecord r : steps) for (LayerLoad l : r.experts()) layers.add(l.layer());
        if (!layers.isEmpty()) {
            add(plots, "max_vio.png", "MaxVio per MoE layer: (largest load - mean) / mean, 0 when balanced",
                    Charts.lines("MaxVio", "MaxVio", perLayer(steps, layers, LayerLoad::maxVio), events, false, false));
            add(plots, "dead_experts.png", "Experts that received no tokens, per MoE layer",
                    Charts.lines("Dead experts", "experts", perLayer(steps, layers, l -> l.dead()), events, false, true));
            double scaleTop = Charts.loadScaleTop(steps);
            for (int layer : layers)
                plots.add(new Plot("expert_load_layer_" + layer + ".png",
                        "Load share of each expert over the steps, layer " + layer + " (balanced: 1/" + Charts.experts(steps, layer)
                                + String.format(Locale.ROOT, " = %.3g each)", 1.0 / Charts.experts(steps, layer)),
                        Charts.png(Charts.heatmap(layer, steps, events, scaleTop), Charts.WIDTH, heatmapHeight(steps, layer))));
        }
        return plots;
    }

    private static void add(List<Plot> plots, String file, String caption, JFreeChart chart) throws IOException {
        plots.add(new Plot(file, caption, Charts.png(chart, Charts.WIDTH, Charts.HEIGHT)));
    }

    private static Charts.Line onlyFinite(Charts.Line l) {
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < l.values().length; i++) if (Double.isFinite(l.values()[i])) keep.add(i);
        return new Charts.Line(l.name(), keep.stream().mapToLong(i -> l.steps()[i]).toArray(),
                keep.stream().mapToDouble(i -> l.values()[i]).toArray(), l.pointsOnly(), l.faint());
    }

    /** A spread over two orders of magnitude, where a spike would flatten a linear axis. */
    private static boolean wideRange(Charts.Line line) {
        double min = Double.POSITIVE_INFINITY, max = 0;
        for (double v : line.values())
            if (Double.isFinite(v) && v > 0) {
                min = Math.min(min, v);
                max = Math.max(max, v);
            }
        return max > 0 && max / min > 100;
    }

    private static List<Charts.Line> perLayer(List<StepRecord> steps, TreeSet<Integer> layers, ToDoubleFunction<LayerLoad> value) {
        List<Charts.Line> lines = new ArrayList<>();
        for (int layer : layers)
            lines.add(Charts.Line.of("layer " + layer, steps, r -> {
                for (LayerLoad l : r.experts()) if (l.layer() == layer) return value.applyAsDouble(l);
                return Double.NaN;
            }));
        return lines;
    }

    private static int heatmapHeight(List<StepRecord> steps, int layer) {
        return Math.clamp(110 + 16L * Charts.experts(steps, layer), 220, 520);
    }

    private static JsonNode modelConfig(Path runDir) {
        Path config = runDir.resolve("final").resolve("config.json");
        if (!Files.isRegularFile(config)) return null;
        try {
            return new ObjectMapper().readTree(config.toFile());
        } catch (IOException e) {
            return null; // the report does not judge checkpoints; a broken one is simply not shown
        }
    }

    // ---------------------------------------------------------------- HTML

    static String html(Path runDir, MetricsLog log, List<Plot> plots, JsonNode modelConfig) {
        StringBuilder h = new StringBuilder();
        String name = runDir.toAbsolutePath().normalize().getFileName() == null ? runDir.toString()
                : runDir.toAbsolutePath().normalize().getFileName().toString();
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .append("<title>Behemoth run report: ").append(esc(name)).append("</title>\n<style>\n")
                .append("body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:24px auto;max-width:1400px;color:#222;padding:0 12px}\n")
                .append("h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;margin-top:28px;border-bottom:1px solid #ccc;padding-bottom:4px}\n")
                .append(".meta{color:#666;font-size:13px}\n")
                .append("table{border-collapse:collapse;font-size:14px;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 10px;text-align:left}\n")
                .append("th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}\n")
                .append(".grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(")
                .append(Charts.WIDTH).append("px,1fr));gap:16px}\n")
                .append("figure{margin:0}figure img{display:block;max-width:100%;border:1px solid #e4e4e4}\n")
                .append("figcaption{font-size:13px;color:#555;margin-top:4px}\n")
                .append(".key span{display:inline-block;margin-right:18px;font-size:13px}.key i{display:inline-block;width:4px;height:14px;margin-right:6px;vertical-align:middle}\n")
                .append("</style>\n</head>\n<body>\n");
        h.append("<h1>Run report: ").append(esc(name)).append("</h1>\n<p class=\"meta\">")
                .append(esc(runDir.toAbsolutePath().normalize().toString())).append(" &middot; generated ")
                .append(Instant.now().truncatedTo(ChronoUnit.SECONDS)).append(" from ").append(METRICS).append("</p>\n");

        h.append("<h2 id=\"summary\">Summary</h2>\n");
        table(h, summary(log));

        h.append("<h2 id=\"curves\">Training curves</h2>\n");
        eventKey(h, log);
        grid(h, plots.stream().filter(p -> !p.file().startsWith("expert_load") && !p.file().startsWith("max_vio")
                && !p.file().startsWith("dead_")).toList());

        List<Plot> moe = plots.stream().filter(p -> p.file().startsWith("max_vio") || p.file().startsWith("dead_")).toList();
        List<Plot> heat = plots.stream().filter(p -> p.file().startsWith("expert_load")).toList();
        h.append("<h2 id=\"experts\">Expert balance</h2>\n");
        if (moe.isEmpty()) h.append("<p>No MoE layers were logged (a dense model).</p>\n");
        else {
            grid(h, moe);
            h.append("<h3>Expert load per layer</h3>\n<p class=\"meta\">x: step, y: expert, colour: share of the layer's routed tokens. ")
                    .append("Dark rows are starving or dead experts; bright rows are overloaded ones.</p>\n");
            grid(h, heat);
        }
        ExpertsSection.append(h, runDir);

        h.append("<h2 id=\"events\">Stability events</h2>\n");
        List<RunEvent> marked = Charts.markable(log.events());
        if (marked.isEmpty()) h.append("<p>None: no spikes, skipped steps or rollbacks.</p>\n");
        else {
            h.append("<table>\n<tr><th>step</th><th>event</th><th>reason</th><th>details</th></tr>\n");
            for (RunEvent e : marked) {
                h.append("<tr><td class=\"num\">").append(e.step()).append("</td><td><i style=\"display:inline-block;width:4px;height:12px;margin-right:6px;background:")
                        .append(hex(Charts.eventColor(e.kind()))).append("\"></i>").append(esc(e.kind()))
                        .append("</td><td>").append(esc(e.reason())).append("</td><td>").append(esc(details(e))).append("</td></tr>\n");
            }
            h.append("</table>\n");
        }

        Map<String, String> settings = new LinkedHashMap<>();
        if (log.config() != null) flatten("", log.config(), settings);
        settings.remove("event");
        settings.remove("step");
        if (!settings.isEmpty()) {
            h.append("<h2 id=\"config\">Run configuration</h2>\n");
            table(h, settings);
        }
        if (modelConfig != null) {
            Map<String, String> model = new LinkedHashMap<>();
            flatten("", modelConfig, model);
            h.append("<h2 id=\"model\">Model (final/config.json)</h2>\n");
            table(h, model);
        }
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    /** The summary table's rows: the run's outcome from the step records, then the summary event's figures. */
    static Map<String, String> summary(MetricsLog log) {
        Map<String, String> rows = new LinkedHashMap<>();
        List<StepRecord> steps = log.steps();
        StepRecord last = steps.isEmpty() ? log.abandoned().getLast() : steps.getLast();
        rows.put("steps logged", steps.size() + " (last step " + last.step() + ")");
        StepRecord lastTrain = lastWith(steps, StepRecord::trainLoss);
        if (lastTrain != null) rows.put("final train loss", fmt(lastTrain.trainLoss()) + " (step " + lastTrain.step() + ")");
        StepRecord lastVal = lastWith(steps, StepRecord::valLoss);
        if (lastVal != null) {
            rows.put("final validation loss", fmt(lastVal.valLoss()) + " (step " + lastVal.step() + ")");
            if (Double.isFinite(lastVal.valBpb())) rows.put("final validation bits per byte", fmt(lastVal.valBpb()));
            StepRecord best = steps.stream().filter(r -> Double.isFinite(r.valLoss()))
                    .min((a, b) -> Double.compare(a.valLoss(), b.valLoss())).orElseThrow();
            rows.put("best validation loss", fmt(best.valLoss()) + " (step " + best.step() + ")");
        }
        double[] rates = steps.stream().mapToDouble(StepRecord::tokensPerS).filter(Double::isFinite).sorted().toArray();
        if (rates.length > 0) rows.put("median tokens/s", String.format(Locale.ROOT, "%,.0f", rates[rates.length / 2]));
        if (!last.experts().isEmpty()) {
            double worst = last.experts().stream().mapToDouble(LayerLoad::maxVio).filter(Double::isFinite).max().orElse(Double.NaN);
            int dead = last.experts().stream().mapToInt(LayerLoad::dead).sum();
            rows.put("MoE layers", String.valueOf(last.experts().size()));
            rows.put("final worst MaxVio", fmt(worst));
            rows.put("final dead experts (all layers)", String.valueOf(dead));
        }
        Map<String, Integer> counts = new TreeMap<>();
        for (RunEvent e : Charts.markable(log.events())) counts.merge(e.kind(), 1, Integer::sum);
        rows.put("stability events", counts.isEmpty() ? "none" : counts.toString().replaceAll("[{}]", "").replace("=", ": "));

        if (log.summary() != null) {
            Map<String, String> s = new LinkedHashMap<>();
            flatten("", log.summary(), s);
            s.remove("event");
            s.remove("step");
            JsonNode n = log.summary();
            labelled(rows, n, "tokens", "tokens trained", v -> String.format(Locale.ROOT, "%,.0f", v));
            labelled(rows, n, "flops", "total training FLOPs", v -> String.format(Locale.ROOT, "%.3g", v));
            labelled(rows, n, "flops_per_token", "training FLOPs per token", v -> String.format(Locale.ROOT, "%.3g", v));
            labelled(rows, n, "mfu", "MFU (of the measured peak)", v -> String.format(Locale.ROOT, "%.1f%%", 100 * v));
            labelled(rows, n, "peak_gflops", "measured peak (GFLOP/s)", v -> String.format(Locale.ROOT, "%,.1f", v));
            labelled(rows, n, "seconds", "wall time", v -> String.format(Locale.ROOT, "%,.1f s", v));
            labelled(rows, n, "kwh", "energy (kWh)", v -> String.format(Locale.ROOT, "%.4g", v));
            labelled(rows, n, "cost", "cost", v -> String.format(Locale.ROOT, "%,.4g", v));
            labelled(rows, n, "tokens_per_s", "mean tokens/s", v -> String.format(Locale.ROOT, "%,.0f", v));
            labelled(rows, n, "gflops_per_s", "GFLOP/s", v -> String.format(Locale.ROOT, "%,.1f", v));
            // The labelled figures, and those the step records above already show.
            for (String known : List.of("tokens", "flops", "flops_per_token", "mfu", "peak_gflops", "seconds", "kwh", "cost",
                    "tokens_per_s", "gflops_per_s", "train_loss", "val_loss", "val_bpb", "max_vio", "dead_experts"))
                s.remove(known);
            for (Map.Entry<String, String> e : s.entrySet()) rows.putIfAbsent(e.getKey().replace('_', ' '), e.getValue());
        }
        return rows;
    }

    private static void labelled(Map<String, String> rows, JsonNode summary, String field, String label,
                                 java.util.function.DoubleFunction<String> format) {
        JsonNode v = summary.get(field);
        if (v != null && v.isNumber()) rows.put(label, format.apply(v.asDouble()));
    }

    private static StepRecord lastWith(List<StepRecord> steps, ToDoubleFunction<StepRecord> value) {
        for (int i = steps.size() - 1; i >= 0; i--) if (Double.isFinite(value.applyAsDouble(steps.get(i)))) return steps.get(i);
        return null;
    }

    private static String details(RunEvent e) {
        Map<String, String> fields = new LinkedHashMap<>();
        flatten("", e.fields(), fields);
        fields.remove("event");
        fields.remove("step");
        fields.remove("reason");
        StringBuilder s = new StringBuilder();
        for (Map.Entry<String, String> f : fields.entrySet()) {
            if (!s.isEmpty()) s.append(", ");
            s.append(f.getKey()).append(' ').append(f.getValue());
        }
        return s.toString();
    }

    private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
        if (node instanceof ObjectNode object) {
            for (Iterator<Map.Entry<String, JsonNode>> it = object.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else if (node.isNumber()) {
            out.put(prefix, node.isIntegralNumber() ? node.asText() : fmt(node.asDouble()));
        } else {
            out.put(prefix, node.isTextual() ? node.asText() : node.toString());
        }
    }

    private static void eventKey(StringBuilder h, MetricsLog log) {
        TreeSet<String> kinds = new TreeSet<>();
        for (RunEvent e : Charts.markable(log.events())) kinds.add(e.kind());
        if (kinds.isEmpty()) return;
        h.append("<p class=\"key\">Vertical lines mark events: ");
        for (String k : kinds)
            h.append("<span><i style=\"background:").append(hex(Charts.eventColor(k))).append("\"></i>").append(esc(k)).append("</span>");
        h.append(kinds.contains(RunEvent.ROLLBACK) ? "; a shaded band spans the steps a rollback undid" : "").append("</p>\n");
    }

    private static void grid(StringBuilder h, List<Plot> plots) {
        h.append("<div class=\"grid\">\n");
        for (Plot p : plots)
            h.append("<figure><img alt=\"").append(esc(p.caption())).append("\" src=\"data:image/png;base64,")
                    .append(Base64.getEncoder().encodeToString(p.png())).append("\"><figcaption>")
                    .append(esc(p.caption())).append(" &middot; <code>").append(PLOTS).append('/').append(esc(p.file()))
                    .append("</code></figcaption></figure>\n");
        h.append("</div>\n");
    }

    private static void table(StringBuilder h, Map<String, String> rows) {
        h.append("<table>\n");
        for (Map.Entry<String, String> r : rows.entrySet())
            h.append("<tr><th>").append(esc(r.getKey())).append("</th><td>").append(esc(r.getValue())).append("</td></tr>\n");
        h.append("</table>\n");
    }

    private static String fmt(double v) {
        if (!Double.isFinite(v)) return String.valueOf(v);
        double a = Math.abs(v);
        return a != 0 && (a < 1e-3 || a >= 1e6) ? String.format(Locale.ROOT, "%.4g", v) : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String hex(java.awt.Color c) {
        return String.format("#%06x", c.getRGB() & 0xFFFFFF);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
