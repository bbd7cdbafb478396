package ai.behemoth.generate;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from logits. In order:
 * <ol>
 *   <li>penalties over the last {@code penaltyWindow} tokens of the context: a seen token's logit
 *       {@code l} becomes {@code l / r} when positive, {@code l · r} otherwise (repeat penalty r), then
 *       {@code − presence − frequency · count};</li>
 *   <li>temperature 0: the most likely token (the lowest id on ties), nothing random;</li>
 *   <li>otherwise logits / temperature, keep the top-k, softmax, keep the top-p nucleus, drop tokens
 *       under min-p × the largest probability, and draw from what is left (renormalised) with a
 *       generator seeded once per generation.</li>
 * </ol>
 * The logits array is modified in place. The buffers (the penalty window, the ranking) are kept
 * between calls, so a generation allocates nothing per token here.
 */
public final class Sampler {
    private final GenerateOptions options;
    private final SplittableRandom random;
    private long[] order = new long[0];
    private float[] probs = new float[0];
    private int[] window = new int[0];

    public Sampler(GenerateOptions options, long seed) {
        this.options = options;
        this.random = new SplittableRandom(seed);
    }

    /** The next token given {@code logits[V]} and the context so far ({@code context[0, length)}). */
    public int sample(float[] logits, int[] context, int length) {
        applyPenalties(logits, context, length);
        if (options.temperature() == 0) return argmax(logits);
        return draw(logits);
    }

    /** The penalties of step 1, in place. */
    void applyPenalties(float[] logits, int[] context, int length) {
        GenerateOptions o = options;
        boolean any = o.repeatPenalty() != 1 || o.presencePenalty() != 0 || o.frequencyPenalty() != 0;
        if (!any || o.penaltyWindow() == 0) return;
        int from = Math.max(0, length - o.penaltyWindow()), size = length - from;
        if (window.length < size) window = new int[Math.min(o.penaltyWindow(), context.length)];
        System.arraycopy(context, from, window, 0, size);
        Arrays.sort(window, 0, size);
        for (int i = 0; i < size; ) {
            int id = window[i], count = 0;
            while (i < size && window[i] == id) {
                count++;
                i++;
            }
            if (id < 0 || id >= logits.length) continue;
            float l = logits[id];
            l = l > 0 ? (float) (l / o.repeatPenalty()) : (float) (l * o.repeatPenalty());
            logits[id] = (float) (l - o.presencePenalty() - o.frequencyPenalty() * count);
        }
    }

    static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }

    private int draw(float[] logits) {
        int v = logits.length;
        if (order.length < v) {
            order = new long[v];
            probs = new float[v];
        }
        // Rank by descending logit, ties by id: key = (order-preserving bits of −logit) << 32 | id, smallest first.
        // With top-k only the k best are kept (a bounded heap), so a large vocabulary is not sorted whole.
        int keep = options.topK() > 0 ? Math.min(options.topK(), v) : v;
        float temperature = (float) options.temperature();
        if (keep == v) {
            for (int i = 0; i < v; i++) order[i] = rankKey(logits[i] / temperature, i);
        } else {
            int size = 0;
            for (int i = 0; i < v; i++) {
                long key = rankKey(logits[i] / temperature, i);
                if (size < keep) {
                    order[size] = key;
                    siftUp(size++);
                } else if (key < order[0]) {
                    order[0] = key;
                    siftDown(keep);
                }
            }
        }
        Arrays.sort(order, 0, keep);
        float max = logits[id(0)] / temperature;
        double sum = 0;
        for (int i = 0; i < keep; i++) {
            float p = (float) Math.exp(logits[id(i)] / temperature - max);
            probs[i] = p;
            sum += p;
        }
        // Nucleus: the smallest prefix whose probability reaches top-p.
        if (options.topP() < 1) {
            double cumulative = 0;
            for (int i = 0; i < keep; i++) {
                cumulative += probs[i] / sum;
                if (cumulative >= options.topP()) {
                    keep = i + 1;
                    break;
                }
            }
        }
        // min-p, relative to the most likely token (probs[0] is the largest, exp(0) = 1).
        if (options.minP() > 0) {
            int i = 1;
            while (i < keep && probs[i] >= options.minP() * probs[0]) i++;
            keep = i;
        }
        double total = 0;
        for (int i = 0; i < keep; i++) total += probs[i];
        double u = random.nextDouble() * total;
        for (int i = 0; i < keep; i++) {
            u -= probs[i];
            if (u < 0) return id(i);
        }
        return id(keep - 1);
    }

    /** Sorts before every key of a larger scaled logit, or of the same one with a larger id. */
    private static long rankKey(float scaledLogit, int id) {
        int bits = Float.floatToIntBits(-scaledLogit);
        bits ^= (bits >> 31) & 0x7fffffff; // negative floats: flip the magnitude bits so the ints order as the floats
        return ((long) bits << 32) | id;
    }

    /** Max-heap on order[0, size): moves the entry at i up to its place. */
    private void siftUp(int i) {
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (order[parent] >= order[i]) return;
            swap(parent, i);
            i = parent;
        }
    }

    /** Max-heap on order[0, size): moves the root down to its place. */
    private void siftDown(int size) {
        int i = 0;
        while (true) {
            int largest = i, l = 2 * i + 1, r = l + 1;
            if (l < size && order[l] > order[largest]) largest = l;
            if (r < size && order[r] > order[largest]) largest = r;
            if (largest == i) return;
            swap(i, largest);
            i = largest;
        }
    }

    private void swap(int a, int b) {
        long t = order[a];
        order[a] = order[b];
        order[b] = t;
    }

    private int id(int rank) {
        return (int) order[rank];
    }
}
