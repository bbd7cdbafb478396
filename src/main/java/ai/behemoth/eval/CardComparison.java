package ai.behemoth.eval;

import ai.behemoth.report.Charts;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * Compares eval cards of one kind: every metric of every card against the first card (the
 * baseline), with a bootstrap interval and p-value for each difference. The comparison is paired
 * (one resample of items for both cards) when the cards scored the same items: same data and
 * tokenizer bytes, same settings, and, for text, the same chunking. Otherwise each card is resampled
 * on its own, which is wider, and the table says so.
 */
public final class CardComparison {
    static {
        System.setProperty("java.awt.headless", "true"); // draw PNGs without a display
    }

    private CardComparison() {}

    public record Card(String name, ObjectNode json, ItemScores items) {}

    public record Row(String metric, String name, Bootstrap.Interval score, Bootstrap.Difference difference) {}

    public static List<Row> compare(List<Card> cards, int resamples, long seed) {
        String kind = cards.getFirst().json().path("kind").asText();
        for (Card c : cards)
            if (!c.json().path("kind").asText().equals(kind))
                throw new IllegalArgumentException(c.name() + ": a " + c.json().path("kind").asText() + " card cannot be compared with " + kind + " cards");
        Card base = cards.getFirst();
        List<Row> rows = new ArrayList<>();
        for (ItemScores.Metric m : base.items().metrics()) {
            for (Card c : cards) {
                ItemScores.Metric mine = c.items().metric(m.name());
                Bootstrap.Interval score = c.items().interval(mine, resamples, seed);
                Bootstrap.Difference diff = null;
                if (c != base) {
                    ItemScores a = base.items(), b = c.items();
                    diff = Bootstrap.difference(a.column(m.numerator()), den(a, m), b.column(mine.numerator()), den(b, mine),
                            m.scale(), paired(base, c), resamples, seed);
                }
                rows.add(new Row(m.name(), c.name(), score, diff));
            }
        }
        return rows;
    }

    private static double[] den(ItemScores s, ItemScores.Metric m) {
        return m.denominator() == null ? null : s.column(m.denominator());
    }

    /** Whether two cards scored the same items, so that item i of one is item i of the other. */
    static boolean paired(Card a, Card b) {
        JsonNode sa = a.json().path("settings").deepCopy(), sb = b.json().path("settings").deepCopy();
        ((ObjectNode) sa).remove("bootstrap");
        ((ObjectNode) sb).remove("bootstrap");
        if (!sa.equals(sb) || a.items().items() != b.items().items()) return false;
        if (!a.json().path("data").path("sha256").equals(b.json().path("data").path("sha256"))) return false;
        if (!a.json().path("tokenizer").path("sha256").equals(b.json().path("tokenizer").path("sha256"))) return false;
        return !a.items().columns().containsKey("tokens") || Arrays.equals(a.items().column("tokens"), b.items().column("tokens"));
    }

    /** The comparison as a plain-text table. */
    public static String table(List<Row> rows) {
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%-16s %-28s %10s %23s %11s %23s %8s  %s%n",
                "metric", "card", "score", "95% interval", "diff", "diff 95% interval", "p", "test"));
        for (Row r : rows) {
            Bootstrap.Difference d = r.difference();
            out.append(String.format(Locale.ROOT, "%-16s %-28s %10.4f  [%9.4f, %9.4f] ", r.metric(), shorten(r.name()),
                    r.score().value(), r.score().low(), r.score().high()));
            if (d == null) out.append(String.format(Locale.ROOT, "%11s %23s %8s  %s%n", "-", "-", "-", "baseline"));
            else out.append(String.format(Locale.ROOT, "%+11.4f  [%+9.4f, %+9.4f] %8s  %s%n", d.value(), d.low(), d.high(),
                    pValue(d.p()), d.paired() ? "paired bootstrap" : "unpaired bootstrap"));
        }
        return out.toString();
    }

    static String pValue(double p) {
        return p <= 0.001 ? "<=0.001" : String.format(Locale.ROOT, "%.3f", p);
    }

    private static String shorten(String name) {
        return name.length() <= 28 ? name : "…" + name.substring(name.length() - 27);
    }

    /** One chart per metric: each card's score with its 95% interval as an error bar. */
    public static List<byte[]> plots(List<Row> rows, List<Card> cards) throws IOException {
        List<byte[]> pngs = new ArrayList<>();
        String[] names = cards.stream().map(c -> "#" + (cards.indexOf(c) + 1)).toArray(String[]::new);
        for (String metric : rows.stream().map(Row::metric).distinct().toList()) {
            YIntervalSeries series = new YIntervalSeries(metric);
            int x = 0;
            for (Row r : rows)
                if (r.metric().equals(metric)) series.add(x++, r.score().value(), r.score().low(), r.score().high());
            YIntervalSeriesCollection data = new YIntervalSeriesCollection();
            data.addSeries(series);
            XYErrorRenderer renderer = new XYErrorRenderer();
            renderer.setDrawXError(false);
            renderer.setDefaultLinesVisible(false);
            renderer.setErrorPaint(java.awt.Color.DARK_GRAY);
            renderer.setSeriesPaint(0, new java.awt.Color(0x4E79A7));
            SymbolAxis xAxis = new SymbolAxis("card", names);
            xAxis.setGridBandsVisible(false);
            xAxis.setRange(-0.5, names.length - 0.5);
            NumberAxis yAxis = new NumberAxis(metric);
            yAxis.setAutoRangeIncludesZero(false);
            XYPlot plot = new XYPlot(data, xAxis, yAxis, renderer);
            JFreeChart chart = new JFreeChart(metric + " with 95% bootstrap intervals", null, plot, false);
            Charts.style(chart, plot);
            pngs.add(Charts.png(chart, Charts.WIDTH, Charts.HEIGHT));
        }
        return pngs;
    }

    /** A self-contained page: the cards, the table, and the plots inline. */
    public static String html(List<Row> rows, List<Card> cards, List<byte[]> pngs) {
        StringBuilder h = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>Behemoth eval comparison</title>"
                + "<style>body{font-family:sans-serif;margin:2em}td,th{padding:2px 8px;text-align:right}td:first-child,td:nth-child(2){text-align:left}"
                + "table{border-collapse:collapse}tr:nth-child(even){background:#f4f4f4}</style></head><body><h1>Eval comparison</h1><ol>");
        for (Card c : cards)
            h.append("<li>").append(escape(c.name())).append(" — model ").append(escape(c.json().path("model").path("path").asText()))
                    .append(", data ").append(escape(c.json().path("data").path("name").asText())).append("</li>");
        h.append("</ol><table><tr><th>metric</th><th>card</th><th>score</th><th>95% interval</th><th>difference vs #1</th>"
                + "<th>95% interval</th><th>p</th><th>test</th></tr>");
        for (Row r : rows) {
            Bootstrap.Difference d = r.difference();
            h.append(String.format(Locale.ROOT, "<tr><td>%s</td><td>#%d</td><td>%.4f</td><td>[%.4f, %.4f]</td>", r.metric(),
                    indexOf(cards, r.name()) + 1, r.score().value(), r.score().low(), r.score().high()));
            if (d == null) h.append("<td colspan=4>baseline</td></tr>");
            else h.append(String.format(Locale.ROOT, "<td>%+.4f</td><td>[%+.4f, %+.4f]</td><td>%s</td><td>%s</td></tr>", d.value(),
                    d.low(), d.high(), pValue(d.p()), d.paired() ? "paired" : "unpaired"));
        }
        h.append("</table>");
        for (byte[] png : pngs)
            h.append("<p><img alt=\"scores with error bars\" src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(png)).append("\"></p>");
        return h.append("</body></html>\n").toString();
    }

    private static int indexOf(List<Card> cards, String name) {
        for (int i = 0; i < cards.size(); i++) if (cards.get(i).name().equals(name)) return i;
        return -1;
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
