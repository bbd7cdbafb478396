package ai.behemoth.eval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What an evaluation measured, item by item: named columns of per-item numbers (nats and tokens
 * per chunk of text, 0/1 correctness per question) and the metrics defined on them, each
 * {@code scale · Σ numerator / Σ denominator}. The card stores the columns, so a later
 * {@code compare} can bootstrap differences between two cards item by item.
 *
 * @param unit what one item is ("chunk", "question", "sample")
 */
public record ItemScores(String unit, Map<String, double[]> columns, List<Metric> metrics) {

    /** @param denominator a column name, or null for a plain mean over items */
    public record Metric(String name, String numerator, String denominator, double scale, String description) {}

    public ItemScores {
        columns = new LinkedHashMap<>(columns);
        int n = -1;
        for (var e : columns.entrySet()) {
            if (n >= 0 && e.getValue().length != n)
                throw new IllegalArgumentException("column " + e.getKey() + " has " + e.getValue().length + " items, others " + n);
            n = e.getValue().length;
        }
        metrics = List.copyOf(metrics);
    }

    public int items() {
        return columns.isEmpty() ? 0 : columns.values().iterator().next().length;
    }

    public Bootstrap.Interval interval(Metric m, int resamples, long seed) {
        return Bootstrap.ratio(column(m.numerator()), m.denominator() == null ? null : column(m.denominator()),
                m.scale(), resamples, seed);
    }

    /** The metric over all items, {@code scale · Σ numerator / Σ denominator}. */
    public double value(Metric m) {
        double[] num = column(m.numerator()), den = m.denominator() == null ? null : column(m.denominator());
        double n = 0, d = 0;
        for (int i = 0; i < num.length; i++) {
            n += num[i];
            d += den == null ? 1 : den[i];
        }
        return m.scale() * n / d;
    }

    public double[] column(String name) {
        double[] c = columns.get(name);
        if (c == null) throw new IllegalArgumentException("no per-item column " + name);
        return c;
    }

    public Metric metric(String name) {
        for (Metric m : metrics) if (m.name().equals(name)) return m;
        throw new IllegalArgumentException("no metric " + name);
    }
}
