package ai.behemoth.train;

import ai.behemoth.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What each expert eats ({@code behemoth inspect experts}): a token stream is cut into windows of
 * the model's context, run through the training forward in batches, and every (token, slot) routing
 * decision of every MoE layer is counted: the load share of each expert, the experts that got
 * nothing, the router's mean entropy, and the tokens each expert receives most often with a short
 * context around the first occurrence of each.
 */
public final class ExpertUsage {
    private ExpertUsage() {}

    /** Tokens of left context shown before a routed token, and of right context after it. */
    static final int LEFT = 8, RIGHT = 3;

    /**
     * @param text    the token decoded
     * @param context decoded text around its first occurrence, the token in [brackets]
     */
    public record TokenCount(int token, String text, long count, String context) {}

    /** @param share this expert's assignments over the layer's */
    public record Expert(int expert, long assignments, double share, boolean dead, List<TokenCount> topTokens) {}

    /**
     * @param entropy mean over tokens of the entropy (nats) of the router's normalised scores
     * @param maxVio  (largest load − mean load) / mean load over the whole text
     */
    public record Layer(int layer, long assignments, double entropy, double maxVio, int dead, List<Expert> experts) {}

    /** @param tokens tokens routed (per layer, each counts once per selected expert) */
    public record Report(long tokens, int topK, int context, List<Layer> layers) {}

    /** Routes {@code stream} through {@code model}; {@code batch} windows a forward; the {@code top} most frequent tokens per expert. */
    public static Report measure(Transformer model, Tokenizer tokenizer, int[] stream, int batch, int top) {
        int seq = Math.min(model.config().context(), stream.length);
        if (seq < 1) throw new IllegalArgumentException("the text holds no tokens");
        int windows = stream.length / seq, k = model.config().topK(), experts = model.config().experts();
        int moeLayers = 0;
        for (int l = 0; l < model.config().layers(); l++) if (model.config().isMoeLayer(l)) moeLayers++;
        if (moeLayers == 0) throw new IllegalArgumentException("the model has no MoE layer");
        long[][] counts = new long[moeLayers][experts];
        // per layer and expert: token -> {count, first position}
        List<List<Map<Integer, long[]>>> byToken = new ArrayList<>();
        for (int l = 0; l < moeLayers; l++) {
            List<Map<Integer, long[]>> perExpert = new ArrayList<>();
            for (int e = 0; e < experts; e++) perExpert.add(new HashMap<>());
            byToken.add(perExpert);
        }
        double[] entropySum = new double[moeLayers];
        int[] layerIndex = new int[moeLayers];
        long tokens = 0;
        for (int w0 = 0; w0 < windows; w0 += batch) {
            int b = Math.min(batch, windows - w0), n = b * seq;
            int[] in = Arrays.copyOfRange(stream, w0 * seq, w0 * seq + n);
            model.forward(in, null, b, seq);
            List<int[]> routed = model.routedExperts();
            List<RouterStats> stats = model.routerStats();
            for (int l = 0; l < moeLayers; l++) {
                layerIndex[l] = stats.get(l).layer();
                entropySum[l] += stats.get(l).entropy() * n;
                int[] selected = routed.get(l);
                for (int t = 0; t < n; t++)
                    for (int j = 0; j < k; j++) {
                        int e = selected[t * k + j];
                        counts[l][e]++;
                        long[] c = byToken.get(l).get(e).computeIfAbsent(in[t], x -> new long[]{0, -1});
                        if (c[0]++ == 0) c[1] = w0 * (long) seq + t;
                    }
            }
            tokens += n;
        }
        List<Layer> layers = new ArrayList<>();
        for (int l = 0; l < moeLayers; l++) {
            long total = Arrays.stream(counts[l]).sum();
            long max = Arrays.stream(counts[l]).max().orElse(0);
            double mean = (double) total / experts;
            List<Expert> list = new ArrayList<>();
            int dead = 0;
            for (int e = 0; e < experts; e++) {
                if (counts[l][e] == 0) dead++;
                List<Map.Entry<Integer, long[]>> ranked = new ArrayList<>(byToken.get(l).get(e).entrySet());
                ranked.sort((x, y) -> x.getValue()[0] != y.getValue()[0] ? Long.compare(y.getValue()[0], x.getValue()[0])
                        : Integer.compare(x.getKey(), y.getKey()));
                List<TokenCount> topTokens = new ArrayList<>();
                for (Map.Entry<Integer, long[]> r : ranked.subList(0, Math.min(top, ranked.size())))
                    topTokens.add(new TokenCount(r.getKey(), decode(tokenizer, stream, (int) r.getValue()[1], 1), r.getValue()[0],
                            context(tokenizer, stream, (int) r.getValue()[1])));
                list.add(new Expert(e, counts[l][e], total == 0 ? 0 : (double) counts[l][e] / total, counts[l][e] == 0, topTokens));
            }
            layers.add(new Layer(layerIndex[l], total, tokens == 0 ? 0 : entropySum[l] / tokens, mean == 0 ? 0 : (max - mean) / mean,
                    dead, list));
        }
        return new Report(tokens, k, seq, layers);
    }

    private static String context(Tokenizer tokenizer, int[] stream, int at) {
        int from = Math.max(0, at - LEFT), to = Math.min(stream.length, at + 1 + RIGHT);
        return decode(tokenizer, stream, from, at - from) + "[" + decode(tokenizer, stream, at, 1) + "]"
                + decode(tokenizer, stream, at + 1, to - at - 1);
    }

    private static String decode(Tokenizer tokenizer, int[] stream, int from, int count) {
        return new String(tokenizer.decode(Arrays.copyOfRange(stream, from, from + count)), StandardCharsets.UTF_8);
    }
}
