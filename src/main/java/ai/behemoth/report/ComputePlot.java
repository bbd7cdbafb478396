package ai.behemoth.report;

import com.fasterxml.jackson.databind.JsonNode;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;

/**
 * Validation loss against training compute for many runs ({@code behemoth runs plot}): one line
 * per run, a point per evaluation, at x = FLOPs per token × step × batch × context (log scale), so
 * that runs of different shapes and lengths compare at equal cost.
 */
public final class ComputePlot {
    static {
        System.setProperty("java.awt.headless", "true");
    }

    private ComputePlot() {}

    /** The points (FLOPs, validation loss) of the run in {@code runDir}; empty when it has no validation yet. */
    public static XYSeries curve(String name, Path runDir) throws IOException {
        MetricsLog log = MetricsLog.read(runDir.resolve(RunReport.METRICS));
        XYSeries series = new XYSeries(name, false, true);
        JsonNode config = log.config(), summary = log.summary();
        if (config == null || summary == null || !summary.has("flops_per_token")) return series;
        double perStep = summary.get("flops_per_token").asDouble() * config.path("options").path("batch").asLong()
                * config.path("model").path("context").asLong();
        for (StepRecord r : log.steps())
            if (Double.isFinite(r.valLoss()) && r.step() > 0) series.add(perStep * r.step(), r.valLoss());
        return series;
    }

    /** Draws the runs (name → run folder) into a PNG at {@code png}; returns how many runs had points. */
    public static int write(Path png, Map<String, Path> runs) throws IOException {
        XYSeriesCollection data = new XYSeriesCollection();
        for (Map.Entry<String, Path> run : runs.entrySet()) {
            XYSeries s = curve(run.getKey(), run.getValue());
            if (!s.isEmpty()) data.addSeries(s);
        }
        if (data.getSeriesCount() == 0) throw new IOException("no run has a validation loss and a summary to plot");
        LogAxis x = new LogAxis("training FLOPs");
        x.setSmallestValue(1);
        x.setNumberFormatOverride(new java.text.DecimalFormat("0.##E0")); // 2.5E8, not 10^8.40
        NumberAxis y = new NumberAxis("validation loss (nats / token)");
        y.setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        XYPlot plot = new XYPlot(data, x, y, renderer);
        JFreeChart chart = new JFreeChart("Validation loss against compute", JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        Charts.style(chart, plot);
        Path tmp = png.resolveSibling("." + png.getFileName() + ".tmp");
        Files.write(tmp, Charts.png(chart, 900, 560));
        Files.move(tmp, png, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return data.getSeriesCount();
    }
}
