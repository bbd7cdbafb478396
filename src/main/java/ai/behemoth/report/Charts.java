package ai.behemoth.report;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.LegendItem;
import org.jfree.chart.LegendItemCollection;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.block.BlockBorder;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.SeriesRenderingOrder;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.PaintScale;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.LegendTitle;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.DefaultXYZDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Paint;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The report's plots, drawn with JFreeChart: line charts over training steps with stability
 * events marked as vertical lines, and an expert-load heatmap per MoE layer.
 */
public final class Charts {
    private Charts() {}

    public static final int WIDTH = 680, HEIGHT = 300;

    /** About the pixel width of a heatmap's data area: more columns than this could not be seen. */
    static final int MAX_HEATMAP_COLUMNS = 500;

    private static final Font TITLE = new Font("DejaVu Sans", Font.BOLD, 15);
    private static final Font LABEL = new Font("DejaVu Sans", Font.PLAIN, 12);
    private static final Font TICK = new Font("DejaVu Sans", Font.PLAIN, 11);
    private static final Color GRID = new Color(0xDD, 0xDD, 0xDD);

    /** Line colours: the Tableau 10 palette, distinct to most colour-blind readers too. */
    private static final Color[] PALETTE = {
            new Color(0x4E79A7), new Color(0xF28E2B), new Color(0x59A14F), new Color(0xB07AA1),
            new Color(0x76B7B2), new Color(0xEDC948), new Color(0x9C755F), new Color(0xFF9DA7),
            new Color(0xBAB0AC), new Color(0xE15759)};

    /** A named series of (step, value) points; non-finite values are left out. */
    record Line(String name, long[] steps, double[] values, boolean pointsOnly, boolean faint) {
        static Line of(String name, List<StepRecord> records, java.util.function.ToDoubleFunction<StepRecord> value) {
            return of(name, records, value, false, false);
        }

        static Line of(String name, List<StepRecord> records, java.util.function.ToDoubleFunction<StepRecord> value,
                       boolean pointsOnly, boolean faint) {
            long[] steps = new long[records.size()];
            double[] values = new double[records.size()];
            for (int i = 0; i < records.size(); i++) {
                steps[i] = records.get(i).step();
                values[i] = value.applyAsDouble(records.get(i));
            }
            return new Line(name, steps, values, pointsOnly, faint);
        }

        boolean hasData() {
            for (double v : values) if (Double.isFinite(v)) return true;
            return false;
        }
    }

    /** How each kind of event is marked. */
    static Color eventColor(String kind) {
        return switch (kind) {
            case RunEvent.SPIKE -> new Color(0xE8, 0xA2, 0x02);
            case RunEvent.SKIP -> new Color(0xD6, 0x60, 0x1B);
            case RunEvent.ROLLBACK -> new Color(0xC0, 0x10, 0x2A);
            default -> new Color(0x80, 0x80, 0x80);
        };
    }

    /** Events drawn on charts: everything but config and summary. */
    static List<RunEvent> markable(List<RunEvent> events) {
        return events.stream().filter(e -> e.step() >= 0
                && !e.kind().equals(RunEvent.CONFIG) && !e.kind().equals(RunEvent.SUMMARY)).toList();
    }

    /**
     * A line chart over steps. {@code logScale} draws the y axis logarithmically (values must then
     * be positive; others are left out); {@code integerY} uses whole-number ticks.
     */
    static JFreeChart lines(String title, String yLabel, List<Line> lines, List<RunEvent> events,
                            boolean logScale, boolean integerY) {
        XYSeriesCollection data = new XYSeriesCollection();
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer();
        int colour = 0;
        for (Line line : lines) {
            XYSeries series = new XYSeries(line.name(), false, true);
            for (int i = 0; i < line.steps().length; i++) {
                double v = line.values()[i];
                if (Double.isFinite(v) && (!logScale || v > 0)) series.add(line.steps()[i], v);
            }
            int s = data.getSeriesCount();
            data.addSeries(series);
            Color c = line.faint() ? new Color(0x99, 0x99, 0x99) : PALETTE[colour++ % PALETTE.length];
            renderer.setSeriesPaint(s, c);
            renderer.setSeriesStroke(s, new BasicStroke(line.faint() ? 1.0f : 1.6f));
            renderer.setSeriesLinesVisible(s, !line.pointsOnly());
            // Sparse series (validation) get their points drawn; dense ones read better as plain lines.
            boolean sparse = series.getItemCount() <= 40 || line.pointsOnly();
            renderer.setSeriesShapesVisible(s, sparse);
            double r = line.faint() ? 2.5 : 3;
            renderer.setSeriesShape(s, new Ellipse2D.Double(-r, -r, 2 * r, 2 * r));
        }
        NumberAxis x = new NumberAxis("step");
        x.setAutoRangeIncludesZero(false);
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        ValueAxis y;
        if (logScale) {
            LogAxis log = new LogAxis(yLabel);
            log.setBase(10);
            log.setSmallestValue(1e-12);
            // One tick per decade, written plainly (0.1, 1, 10, 100) rather than as 3.162E1.
            log.setAutoTickUnitSelection(false);
            log.setTickUnit(new NumberTickUnit(1));
            log.setNumberFormatOverride(new java.text.DecimalFormat("#,##0.#####", java.text.DecimalFormatSymbols.getInstance(java.util.Locale.ROOT)));
            y = log;
        } else {
            NumberAxis linear = new NumberAxis(yLabel);
            linear.setAutoRangeIncludesZero(false);
            if (integerY) {
                linear.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
                linear.setAutoRangeIncludesZero(true);
                linear.setAutoRangeMinimumSize(2);
            }
            y = linear;
        }
        y.setUpperMargin(0.1); // room for marker labels above the highest point
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setSeriesRenderingOrder(SeriesRenderingOrder.FORWARD); // sparse validation points on top of the train line
        JFreeChart chart = new JFreeChart(title, TITLE, plot, true);
        style(chart, plot);
        mark(plot, events, renderer, lines.size() > 1 || !markable(events).isEmpty());
        if (lines.size() == 1 && markable(events).isEmpty()) chart.removeLegend();
        return chart;
    }

    /**
     * Adds a vertical line for each event and, when {@code legend}, legend entries for the kinds
     * present next to the series.
     */
    private static void mark(XYPlot plot, List<RunEvent> events, XYLineAndShapeRenderer renderer, boolean legend) {
        Set<String> kinds = new LinkedHashSet<>();
        for (RunEvent e : markable(events)) {
            Color c = eventColor(e.kind());
            if (e.kind().equals(RunEvent.ROLLBACK)) {
                // Shade the steps that were undone, labelled with the step the run returned to.
                IntervalMarker undone = new IntervalMarker(e.toStep(), e.step(),
                        new Color(c.getRed(), c.getGreen(), c.getBlue(), 28));
                undone.setLabel("rolled back to " + e.toStep());
                undone.setLabelFont(TICK);
                undone.setLabelPaint(c);
                undone.setLabelAnchor(RectangleAnchor.TOP_LEFT);
                undone.setLabelTextAnchor(TextAnchor.TOP_LEFT);
                undone.setLabelOffset(new RectangleInsets(4, 4, 4, 4));
                undone.setLabelBackgroundColor(new Color(0, 0, 0, 0));
                plot.addDomainMarker(undone, Layer.BACKGROUND);
            }
            BasicStroke stroke = e.kind().equals(RunEvent.SPIKE)
                    ? new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[]{4, 3}, 0)
                    : new BasicStroke(e.kind().equals(RunEvent.ROLLBACK) ? 2.0f : 1.2f);
            // Behind the data, so that a spiking point stays visible on its own marker.
            plot.addDomainMarker(new ValueMarker(e.step(), c, stroke), Layer.BACKGROUND);
            kinds.add(e.kind());
        }
        if (!legend) return;
        LegendItemCollection items = new LegendItemCollection();
        for (int s = 0; s < plot.getDataset().getSeriesCount(); s++) items.add(renderer.getLegendItem(0, s));
        for (String kind : kinds) {
            LegendItem item = new LegendItem(kind, null, null, null, new Rectangle2D.Double(-1.5, -6, 3, 12), eventColor(kind));
            item.setLabelFont(LABEL);
            items.add(item);
        }
        plot.setFixedLegendItems(items);
    }

    /**
     * The load share of every expert of one MoE layer at every logged step: x = step, y = expert,
     * colour = load share on a scale from 0 (dead, darkest) to {@code upper} (brightest). With
     * {@link #loadScaleTop} as {@code upper}, every layer shares one scale, perfect balance (1/E) is
     * mid-scale or below, and a balanced layer's small fluctuations are not stretched into the
     * whole colour range.
     */
    static JFreeChart heatmap(int layer, List<StepRecord> records, List<RunEvent> events, double upper) {
        int experts = experts(records, layer);
        List<Long> steps = new ArrayList<>();
        List<double[]> loads = new ArrayList<>();
        for (StepRecord r : records)
            for (LayerLoad l : r.experts())
                if (l.layer() == layer) {
                    steps.add(r.step());
                    loads.add(l.load());
                }
        // More steps than pixel columns: average runs of consecutive steps into one column each.
        int bin = Math.max(1, (steps.size() + MAX_HEATMAP_COLUMNS - 1) / MAX_HEATMAP_COLUMNS);
        int columns = (steps.size() + bin - 1) / bin;
        double[] x = new double[columns * experts], y = new double[columns * experts], z = new double[columns * experts];
        for (int c = 0; c < columns; c++) {
            int first = c * bin, end = Math.min(first + bin, steps.size());
            for (int e = 0; e < experts; e++) {
                double sum = 0;
                for (int i = first; i < end; i++) sum += e < loads.get(i).length ? loads.get(i)[e] : 0;
                int k = c * experts + e;
                x[k] = (steps.get(first) + steps.get(end - 1)) / 2.0;
                y[k] = e;
                z[k] = sum / (end - first);
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("load", new double[][]{x, y, z});
        PaintScale scale = new Viridis(upper);
        XYBlockRenderer renderer = new XYBlockRenderer();
        renderer.setPaintScale(scale);
        renderer.setBlockWidth(medianGap(steps.stream().mapToLong(Long::longValue).toArray()) * bin);
        renderer.setBlockHeight(1);
        renderer.setBlockAnchor(RectangleAnchor.CENTER);
        NumberAxis xAxis = new NumberAxis("step");
        xAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        xAxis.setAutoRangeIncludesZero(false);
        xAxis.setLowerMargin(0);
        xAxis.setUpperMargin(0);
        NumberAxis yAxis = new NumberAxis("expert");
        yAxis.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        yAxis.setRange(-0.5, experts - 0.5);
        if (experts <= 16) yAxis.setTickUnit(new NumberTickUnit(1));
        yAxis.setInverted(true);
        XYPlot plot = new XYPlot(data, xAxis, yAxis, renderer);
        JFreeChart chart = new JFreeChart("Expert load, layer " + layer
                + (bin > 1 ? " (mean over " + bin + " logged steps a column)" : ""), TITLE, plot, false);
        style(chart, plot);
        plot.setRangeGridlinesVisible(false);
        plot.setDomainGridlinesVisible(false);
        plot.setBackgroundPaint(Color.WHITE);
        for (RunEvent e : markable(events))
            plot.addDomainMarker(new ValueMarker(e.step(), eventColor(e.kind()), new BasicStroke(1.5f)));

        NumberAxis scaleAxis = new NumberAxis("load share");
        scaleAxis.setRange(0, upper);
        scaleAxis.setLabelFont(LABEL);
        scaleAxis.setTickLabelFont(TICK);
        PaintScaleLegend bar = new PaintScaleLegend(scale, scaleAxis);
        bar.setPosition(RectangleEdge.RIGHT);
        bar.setStripWidth(14);
        bar.setAxisLocation(org.jfree.chart.axis.AxisLocation.BOTTOM_OR_RIGHT);
        bar.setMargin(new RectangleInsets(6, 18, 6, 4)); // room for the last step label
        bar.setBackgroundPaint(Color.WHITE);
        chart.addSubtitle(bar);
        return chart;
    }

    /** The top of the heatmaps' common colour scale: twice the balanced share of the layer with the fewest experts, or the largest share logged. */
    static double loadScaleTop(List<StepRecord> records) {
        double top = 0;
        for (StepRecord r : records)
            for (LayerLoad l : r.experts()) {
                top = Math.max(top, 2.0 / l.load().length);
                for (double v : l.load()) if (Double.isFinite(v)) top = Math.max(top, v);
            }
        return top;
    }

    /** The number of experts of a MoE layer: the longest load list logged for it. */
    static int experts(List<StepRecord> records, int layer) {
        int experts = 0;
        for (StepRecord r : records)
            for (LayerLoad l : r.experts()) if (l.layer() == layer) experts = Math.max(experts, l.load().length);
        return experts;
    }

    /** The usual distance between logged steps, so that heatmap blocks tile without gaps. */
    static double medianGap(long[] steps) {
        long[] sorted = Arrays.stream(steps).distinct().sorted().toArray();
        if (sorted.length < 2) return 1;
        long[] gaps = new long[sorted.length - 1];
        for (int i = 1; i < sorted.length; i++) gaps[i - 1] = sorted[i] - sorted[i - 1];
        Arrays.sort(gaps);
        return gaps[gaps.length / 2];
    }

    /** The house style: white background, light grid, left-aligned title, legend below. */
    public static void style(JFreeChart chart, XYPlot plot) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(true);
        TextTitle title = chart.getTitle();
        title.setFont(TITLE);
        title.setHorizontalAlignment(org.jfree.chart.ui.HorizontalAlignment.LEFT);
        title.setMargin(new RectangleInsets(4, 8, 4, 4));
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(GRID);
        plot.setRangeGridlinePaint(GRID);
        plot.setOutlinePaint(new Color(0xAA, 0xAA, 0xAA));
        plot.setAxisOffset(RectangleInsets.ZERO_INSETS);
        for (ValueAxis axis : new ValueAxis[]{plot.getDomainAxis(), plot.getRangeAxis()}) {
            axis.setLabelFont(LABEL);
            axis.setTickLabelFont(TICK);
        }
        LegendTitle legend = chart.getLegend();
        if (legend != null) {
            legend.setItemFont(LABEL);
            legend.setFrame(BlockBorder.NONE);
            legend.setPosition(RectangleEdge.BOTTOM);
        }
    }

    /** The chart as PNG bytes. */
    public static byte[] png(JFreeChart chart, int width, int height) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(bytes, chart, width, height);
        return bytes.toByteArray();
    }

    /**
     * Matplotlib's viridis colour map (dark purple, blue, teal, green, yellow), perceptually
     * uniform and readable in grey; anchor colours every eighth of the range, linearly between.
     */
    static final class Viridis implements PaintScale {
        private static final int[] ANCHORS = {0x440154, 0x46327E, 0x365C8D, 0x277F8E, 0x1FA187, 0x4AC16D, 0x9FDA3A, 0xFDE725};
        private final double upper;

        Viridis(double upper) {
            this.upper = upper;
        }

        @Override
        public double getLowerBound() {
            return 0;
        }

        @Override
        public double getUpperBound() {
            return upper;
        }

        @Override
        public Paint getPaint(double value) {
            if (!Double.isFinite(value)) return Color.LIGHT_GRAY;
            double t = Math.clamp(value / upper, 0, 1) * (ANCHORS.length - 1);
            int i = Math.min((int) t, ANCHORS.length - 2);
            double f = t - i;
            Color a = new Color(ANCHORS[i]), b = new Color(ANCHORS[i + 1]);
            return new Color(
                    (int) Math.round(a.getRed() + f * (b.getRed() - a.getRed())),
                    (int) Math.round(a.getGreen() + f * (b.getGreen() - a.getGreen())),
                    (int) Math.round(a.getBlue() + f * (b.getBlue() - a.getBlue())));
        }
    }
}
