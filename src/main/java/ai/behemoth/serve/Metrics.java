package ai.behemoth.serve;

import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * The server's counters, rendered in the Prometheus text format for {@code GET /metrics}: requests by
 * endpoint and status, prompt and completion tokens, a time-to-first-token histogram, decode
 * throughput, queue depth, running sequences, cancellations, and each MoE layer's expert load (the
 * router's token assignments over everything served).
 */
final class Metrics {
    /** Time-to-first-token bucket bounds, seconds. */
    private static final double[] TTFT_BOUNDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> cancelled = new ConcurrentHashMap<>();
    private final LongAdder promptTokens = new LongAdder(), completionTokens = new LongAdder();
    private final long[] ttftBuckets = new long[TTFT_BOUNDS.length];
    private long ttftCount;
    private double ttftSum;
    private volatile double tokensPerSecond;
    private IntSupplier queueDepth = () -> 0, runningSequences = () -> 0;
    private Supplier<long[][]> expertLoad = () -> new long[0][];

    void sources(IntSupplier queueDepth, IntSupplier runningSequences, Supplier<long[][]> expertLoad) {
        this.queueDepth = queueDepth;
        this.runningSequences = runningSequences;
        this.expertLoad = expertLoad;
    }

    void request(String endpoint, int status) {
        requests.computeIfAbsent(endpoint + "\u0000" + status, k -> new LongAdder()).increment();
    }

    void tokens(int prompt, int completion) {
        promptTokens.add(prompt);
        completionTokens.add(completion);
    }

    void cancelled(String reason) {
        cancelled.computeIfAbsent(reason, k -> new LongAdder()).increment();
    }

    synchronized void firstToken(long nanos) {
        double s = nanos / 1e9;
        for (int i = 0; i < TTFT_BOUNDS.length; i++) if (s <= TTFT_BOUNDS[i]) ttftBuckets[i]++;
        ttftCount++;
        ttftSum += s;
    }

    void tokensPerSecond(double rate) {
        tokensPerSecond = rate;
    }

    String render() {
        StringBuilder out = new StringBuilder();
        header(out, "behemoth_requests_total", "counter", "HTTP requests by endpoint and status.");
        for (var e : new TreeMap<>(requests).entrySet()) {
            String[] k = e.getKey().split("\u0000");
            out.append("behemoth_requests_total{endpoint=\"").append(k[0]).append("\",status=\"").append(k[1]).append("\"} ")
                    .append(e.getValue().sum()).append('\n');
        }
        header(out, "behemoth_prompt_tokens_total", "counter", "Prompt tokens of completed requests.");
        out.append("behemoth_prompt_tokens_total ").append(promptTokens.sum()).append('\n');
        header(out, "behemoth_completion_tokens_total", "counter", "Tokens generated for completed requests.");
        out.append("behemoth_completion_tokens_total ").append(completionTokens.sum()).append('\n');
        header(out, "behemoth_cancelled_requests_total", "counter", "Requests stopped before their end, by reason.");
        for (var e : new TreeMap<>(cancelled).entrySet())
            out.append("behemoth_cancelled_requests_total{reason=\"").append(e.getKey()).append("\"} ").append(e.getValue().sum()).append('\n');
        synchronized (this) {
            header(out, "behemoth_time_to_first_token_seconds", "histogram", "From request arrival to its first generated token.");
            for (int i = 0; i < TTFT_BOUNDS.length; i++)
                out.append("behemoth_time_to_first_token_seconds_bucket{le=\"").append(TTFT_BOUNDS[i]).append("\"} ").append(ttftBuckets[i]).append('\n');
            out.append("behemoth_time_to_first_token_seconds_bucket{le=\"+Inf\"} ").append(ttftCount).append('\n');
            out.append("behemoth_time_to_first_token_seconds_sum ").append(format(ttftSum)).append('\n');
            out.append("behemoth_time_to_first_token_seconds_count ").append(ttftCount).append('\n');
        }
        header(out, "behemoth_tokens_per_second", "gauge", "Tokens generated per second of model time (forward and sampling), over the latest half second of it.");
        out.append("behemoth_tokens_per_second ").append(format(tokensPerSecond)).append('\n');
        header(out, "behemoth_queue_depth", "gauge", "Requests waiting for a place among the running sequences.");
        out.append("behemoth_queue_depth ").append(queueDepth.getAsInt()).append('\n');
        header(out, "behemoth_running_sequences", "gauge", "Sequences being generated (one per choice of each running request).");
        out.append("behemoth_running_sequences ").append(runningSequences.getAsInt()).append('\n');
        long[][] load = expertLoad.get();
        header(out, "behemoth_expert_tokens_total", "counter", "Tokens the router of each MoE layer sent to each expert.");
        for (int l = 0; l < load.length; l++) {
            long layerTotal = 0;
            for (long c : load[l]) layerTotal += c;
            if (layerTotal == 0) continue; // a dense layer, or nothing served yet
            for (int e = 0; e < load[l].length; e++)
                out.append("behemoth_expert_tokens_total{layer=\"").append(l).append("\",expert=\"").append(e).append("\"} ")
                        .append(load[l][e]).append('\n');
        }
        return out.toString();
    }

    private static void header(StringBuilder out, String name, String type, String help) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static String format(double v) {
        return String.format(Locale.ROOT, "%.6f", v);
    }
}
