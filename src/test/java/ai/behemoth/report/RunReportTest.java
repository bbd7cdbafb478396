package ai.behemoth.report;

import org.jfree.chart.ChartRenderingInfo;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.XYPlot;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class RunReportTest {
    /** The synthetic run and its report, written once for the tests that only read them. */
    @TempDir
    static Path run;

    @TempDir
    Path dir;

    @BeforeAll
    static void writeReport() throws IOException {
        SyntheticRun.write(run);
        RunReport.write(run);
    }

    private static final Pattern IMG = Pattern.compile("<img alt=\"[^\"]*\" src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\">"
            + "<figcaption>[^<]*&middot; <code>plots/([a-z0-9_]+\\.png)</code>");

    @Test
    void readsStepsEventsAndSetsAsideTheRolledBackBranch() throws IOException {
        MetricsLog log = MetricsLog.read(run.resolve(RunReport.METRICS));
        // 75 steps, rollback to 60 (15 abandoned), then 61..120 again.
        assertThat(log.abandoned()).hasSize(15).allMatch(r -> r.step() > 60 && r.step() <= 75);
        assertThat(log.steps()).hasSize(SyntheticRun.STEPS);
        assertThat(log.steps().stream().mapToLong(StepRecord::step).toArray())
                .isEqualTo(java.util.stream.LongStream.rangeClosed(1, SyntheticRun.STEPS).toArray());
        assertThat(log.events()).extracting(RunEvent::kind).containsExactly("config", "spike", "skip", "rollback", "summary");
        assertThat(log.events().get(3).toStep()).isEqualTo(60);
        assertThat(log.config().get("batch").asInt()).isEqualTo(16);
        StepRecord last = log.steps().getLast();
        assertThat(last.valLoss()).isEqualTo(SyntheticRun.FINAL_VAL_LOSS);
        assertThat(last.experts()).extracting(LayerLoad::layer).containsExactly(0, 2);
        assertThat(last.experts().get(1).dead()).isEqualTo(1);
        assertThat(log.steps().get(4).valLoss()).isNaN();
    }

    @Test
    void reportHasEverySectionAndValidEmbeddedPngsMatchingTheFiles() throws IOException {
        String page = Files.readString(run.resolve(RunReport.HTML));
        assertThat(page).startsWith("<!DOCTYPE html>")
                .contains("id=\"summary\"", "id=\"curves\"", "id=\"experts\"", "id=\"events\"", "id=\"config\"")
                .contains("Training and validation loss", "Learning rate", "Global gradient norm", "Training throughput",
                        "MaxVio per MoE layer", "Experts that received no tokens", "Load share of each expert")
                .contains("final validation loss</th><td>1.9123 (step 120)")
                .contains("final validation bits per byte</th><td>" + String.format(java.util.Locale.ROOT, "%.4f", SyntheticRun.FINAL_VAL_LOSS / Math.log(2)))
                .contains("total training FLOPs</th><td>1.79e+12", "MFU (of the measured peak)</th><td>12.3%", "cost</th>")
                .contains("final dead experts (all layers)</th><td>1")
                .contains("rollback: 1, skip: 1, spike: 1")
                .contains("3 bad steps in 20", "to_step 60")
                .doesNotContain("http://", "https://", "<script");

        Matcher m = IMG.matcher(page);
        List<String> files = new ArrayList<>();
        while (m.find()) {
            byte[] png = Base64.getDecoder().decode(m.group(1));
            Path file = run.resolve("plots").resolve(m.group(2));
            assertThat(Files.readAllBytes(file)).as(m.group(2)).isEqualTo(png);
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
            assertThat(image).as(m.group(2)).isNotNull();
            assertThat(image.getWidth()).isEqualTo(Charts.WIDTH);
            assertThat(image.getHeight()).isGreaterThanOrEqualTo(Charts.HEIGHT - 80);
            files.add(m.group(2));
        }
        assertThat(files).containsExactly("loss.png", "lr.png", "grad_norm.png", "tokens_per_s.png",
                "max_vio.png", "dead_experts.png", "expert_load_layer_0.png", "expert_load_layer_2.png");
        try (Stream<Path> left = Files.list(run)) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("metrics.jsonl", "report.html", "plots");
        }
        try (Stream<Path> plots = Files.list(run.resolve("plots"))) {
            assertThat(plots.count()).isEqualTo(files.size()); // no temporary files left
        }
    }

    /** Finds the pixel of (step, expert) in a heatmap PNG through the chart's own axes, laid out at the PNG's size. */
    private record Locator(XYPlot plot, Rectangle2D area, BufferedImage png) {
        static Locator of(MetricsLog log, BufferedImage png, int layer) {
            JFreeChart chart = Charts.heatmap(layer, log.steps(), log.events(), Charts.loadScaleTop(log.steps()));
            ChartRenderingInfo info = new ChartRenderingInfo();
            chart.createBufferedImage(png.getWidth(), png.getHeight(), info);
            return new Locator(chart.getXYPlot(), info.getPlotInfo().getDataArea(), png);
        }

        int rgb(long step, int expert) {
            int x = (int) plot.getDomainAxis().valueToJava2D(step, area, plot.getDomainAxisEdge());
            int y = (int) plot.getRangeAxis().valueToJava2D(expert, area, plot.getRangeAxisEdge());
            return png.getRGB(x, y) & 0xFFFFFF;
        }
    }

    @Test
    void heatmapColoursFollowTheLoads() throws IOException {
        MetricsLog log = MetricsLog.read(run.resolve(RunReport.METRICS));
        BufferedImage layer2 = ImageIO.read(run.resolve("plots/expert_load_layer_2.png").toFile());
        BufferedImage layer0 = ImageIO.read(run.resolve("plots/expert_load_layer_0.png").toFile());
        long late = 100, early = 20; // after and before expert 5 of layer 2 dies at step 40
        Locator heat2 = Locator.of(log, layer2, 2), heat0 = Locator.of(log, layer0, 0);
        int dead = heat2.rgb(late, SyntheticRun.DEAD);
        int hot = heat2.rgb(late, SyntheticRun.HOT);
        int balancedBefore = heat2.rgb(early, SyntheticRun.DEAD);
        // A dead expert is drawn in the scale's colour for 0, and differs from the overloaded one and from its own past.
        // The common scale tops out at the largest share logged in any layer: the hot expert's.
        double upper = Math.max(maxLoad(log, 0), maxLoad(log, 2));
        assertThat(Charts.loadScaleTop(log.steps())).isEqualTo(upper).isGreaterThan(2.0 / SyntheticRun.EXPERTS);
        int zero = ((java.awt.Color) new Charts.Viridis(upper).getPaint(0)).getRGB() & 0xFFFFFF;
        assertThat(dead).isEqualTo(zero);
        assertThat(hot).isNotEqualTo(dead);
        assertThat(balancedBefore).isNotEqualTo(dead);
        assertThat(brightness(hot)).isGreaterThan(brightness(balancedBefore)).isGreaterThan(brightness(dead));
        // Layer 0 stays balanced: no cell there is the dead colour.
        for (int e = 0; e < SyntheticRun.EXPERTS; e++)
            assertThat(heat0.rgb(late, e)).as("layer 0 expert " + e).isNotEqualTo(zero);
    }

    private static double maxLoad(MetricsLog log, int layer) {
        double max = 0;
        for (StepRecord r : log.steps())
            for (LayerLoad l : r.experts()) if (l.layer() == layer) for (double v : l.load()) max = Math.max(max, v);
        return max;
    }

    private static int brightness(int rgb) {
        return ((rgb >> 16) & 0xFF) + ((rgb >> 8) & 0xFF) + (rgb & 0xFF);
    }

    @Test
    void longRunsAreAveragedIntoAtMostOneHeatmapColumnPerPixel() {
        // 1200 steps, 2 experts: expert 0 gets step/1200 of the tokens. 1200 > 500 columns, so 3 steps a column.
        List<StepRecord> records = new ArrayList<>();
        for (int step = 1; step <= 1200; step++) {
            double a = step / 1200.0;
            records.add(new StepRecord(step, 1, Double.NaN, Double.NaN, 1e-3, 1, 1000,
                    List.of(new LayerLoad(0, new double[]{a, 1 - a}, 0, 0, 0, 0, 0))));
        }
        var data = Charts.heatmap(0, records, List.of(), 1.0).getXYPlot().getDataset();
        assertThat(data.getItemCount(0)).isEqualTo(400 * 2);
        assertThat(data.getXValue(0, 0)).isEqualTo(2.0); // the middle of steps 1..3
        assertThat(data.getYValue(0, 0)).isEqualTo(0.0);
        assertThat(((org.jfree.data.xy.XYZDataset) data).getZValue(0, 0)).isCloseTo((1 + 2 + 3) / 3.0 / 1200, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(((org.jfree.data.xy.XYZDataset) data).getZValue(0, 1)).isCloseTo(1 - 2.0 / 1200, org.assertj.core.api.Assertions.within(1e-12));
        assertThat(data.getXValue(0, 799)).isEqualTo(1199.0);
        // Short runs keep one column a step.
        assertThat(Charts.heatmap(0, records.subList(0, 500), List.of(), 1.0).getXYPlot().getDataset().getItemCount(0))
                .isEqualTo(500 * 2);
    }

    @Test
    void denseRunWithoutExpertsOrEventsStillReports() throws IOException {
        Files.write(dir.resolve("metrics.jsonl"), List.of(
                "{\"step\":1,\"train_loss\":5.0,\"lr\":0.001,\"grad_norm\":1.0,\"tokens_per_s\":1000,\"experts\":[]}",
                "",
                "{\"step\":2,\"train_loss\":NaN,\"lr\":0.001,\"grad_norm\":\"Infinity\",\"tokens_per_s\":1000}",
                "{\"step\":3,\"train_loss\":4.0,\"val_loss\":4.2,\"val_bpb\":6.06,\"lr\":0.001,\"grad_norm\":null,\"tokens_per_s\":1100}"));
        String page = Files.readString(RunReport.write(dir));
        assertThat(page).contains("No MoE layers were logged", "None: no spikes", "final train loss</th><td>4.0000 (step 3)");
        assertThat(dir.resolve("plots/expert_load_layer_0.png")).doesNotExist();
    }
}
