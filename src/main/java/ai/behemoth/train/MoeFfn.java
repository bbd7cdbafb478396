package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.tensor.Parallel;

import java.util.Arrays;
import java.util.function.IntConsumer;

/**
 * A mixture-of-experts feed-forward block (router, top-k, routed SwiGLU experts, optional shared
 * expert), with its balancing losses.
 *
 * <p>Dropless dispatch sorted by expert: the (token, slot) assignments are counted per expert and
 * stably sorted by expert, each expert's input rows are gathered into one contiguous block, one
 * {@link SwiGlu#forward} runs per expert on its block, and the outputs are added back to their
 * tokens. The router weight multiplies the expert's output (Mixtral) or its input (Llama 4).
 * Backward runs the same path in reverse. All buffers are sized once for {@code maxTokens}.
 */
public final class MoeFfn implements FeedForward {
    /** Rows per parallel task in the gather and scatter loops. */
    private static final int ROW_BLOCK = 64;

    private final int layer, dim, experts, topK, expertHidden, sharedHidden, maxTokens;
    private final boolean weightOnInput;
    private final float[] params, grads;
    private final Router router;
    private final SwiGlu.Weights[] expertWeights;
    private final SwiGlu.Weights sharedWeights;

    private final float[] input;        // [n, D]: a copy of x, which backward needs
    // Dispatch: assignment a = t·k + j (token t, slot j) sits at row slotRow[a] of the sorted blocks.
    private final int[] expertStart;    // [E + 1]: first sorted row of each expert
    private final int[] nextRow;        // [E]: counting-sort cursor
    private final int[] byLoad;         // [E]: the experts, most rows first (ties by index)
    private final int[] slotRow;        // [n·k]
    private final int[] rowSlot;        // [n·k]
    private final float[] expertIn;     // [n·k, D]: gathered rows (scaled by the weight on input)
    private final float[] gate, up;     // [n·k, He]: pre-activations, from forward to backward
    private final float[] expertOut;    // [n·k, D]: expert outputs; backward overwrites them with their gradient
    private final float[] dExpertIn;    // [n·k, D]
    private final float[] dWeights;     // [n·k]
    private final float[] sharedGate, sharedUp; // [n, Hs]
    private int tokens = -1;

    /** @param maxTokens the most token rows one forward will see (batch × sequence) */
    public MoeFfn(ModelConfig config, ParameterLayout layout, int layer, Balance balance,
                  float[] params, float[] grads, int maxTokens) {
        if (!config.isMoeLayer(layer)) throw new IllegalArgumentException("layer " + layer + " is not a MoE layer");
        if (maxTokens < 1) throw new IllegalArgumentException("maxTokens must be positive, got " + maxTokens);
        this.layer = layer;
        this.dim = config.dim();
        this.experts = config.experts();
        this.topK = config.topK();
        this.expertHidden = config.expertHidden();
        this.sharedHidden = config.sharedExpertHidden();
        this.maxTokens = maxTokens;
        this.weightOnInput = config.routerWeight() == ModelConfig.RouterWeight.INPUT;
        this.params = params;
        this.grads = grads;
        this.router = new Router(config, layout, layer, balance, params, grads, maxTokens);

        String p = "layers." + layer + ".feed_forward.";
        int w1 = layout.get(p + "experts.w1").offset(), w3 = layout.get(p + "experts.w3").offset();
        int w2 = layout.get(p + "experts.w2").offset(), matrix = expertHidden * dim;
        expertWeights = new SwiGlu.Weights[experts];
        for (int e = 0; e < experts; e++)
            expertWeights[e] = new SwiGlu.Weights(w1 + e * matrix, w3 + e * matrix, w2 + e * matrix, dim, expertHidden);
        sharedWeights = sharedHidden == 0 ? null : new SwiGlu.Weights(
                layout.get(p + "shared_expert.w1.weight").offset(), layout.get(p + "shared_expert.w3.weight").offset(),
                layout.get(p + "shared_expert.w2.weight").offset(), dim, sharedHidden);

        int rows = Math.multiplyExact(maxTokens, topK);
        input = new float[Math.multiplyExact(maxTokens, dim)];
        expertStart = new int[experts + 1];
        nextRow = new int[experts];
        byLoad = new int[experts];
        slotRow = new int[rows];
        rowSlot = new int[rows];
        expertIn = new float[Math.multiplyExact(rows, dim)];
        gate = new float[Math.multiplyExact(rows, expertHidden)];
        up = new float[gate.length];
        expertOut = new float[expertIn.length];
        dExpertIn = new float[expertIn.length];
        dWeights = new float[rows];
        int shared = Math.multiplyExact(maxTokens, sharedHidden);
        sharedGate = new float[shared];
        sharedUp = new float[shared];
    }

    @Override
    public void forward(float[] x, float[] out, int n) {
        if (n < 0 || n > maxTokens)
            throw new IllegalArgumentException("MoE layer " + layer + ": " + n + " tokens, built for at most " + maxTokens);
        tokens = n;
        System.arraycopy(x, 0, input, 0, n * dim);
        router.forward(input, n);
        sortByExpert(n);
        float[] weights = router.weights();
        forEachExpert(n * topK, this::expertForward);
        if (sharedWeights != null)
            SwiGlu.forward(params, sharedWeights, input, 0, n, sharedGate, sharedUp, 0, out, 0, false);
        else
            Arrays.fill(out, 0, n * dim, 0f);
        // Scatter back token by token, slots in order, so each output row has one writer and a fixed sum order.
        Parallel.forRange(blocks(n), block -> {
            for (int t = block * ROW_BLOCK, end = Math.min(n, t + ROW_BLOCK); t < end; t++) {
                int dst = t * dim;
                for (int j = 0; j < topK; j++) {
                    int a = t * topK + j, src = slotRow[a] * dim;
                    float w = weightOnInput ? 1f : weights[a];
                    for (int i = 0; i < dim; i++) out[dst + i] += w * expertOut[src + i];
                }
            }
        });
    }

    /** Counting sort of the assignments by expert; stable, so each block keeps token order. */
    private void sortByExpert(int n) {
        int[] selected = router.selected();
        long[] counts = router.counts();
        expertStart[0] = 0;
        for (int e = 0; e < experts; e++) expertStart[e + 1] = expertStart[e] + (int) counts[e];
        System.arraycopy(expertStart, 0, nextRow, 0, experts);
        for (int a = 0; a < n * topK; a++) {
            int r = nextRow[selected[a]]++;
            slotRow[a] = r;
            rowSlot[r] = a;
        }
        // Insertion sort of the experts by falling row count: the largest are handed out first.
        for (int i = 0; i < experts; i++) {
            int e = i, j = i;
            for (; j > 0 && counts[byLoad[j - 1]] < counts[e]; j--) byLoad[j] = byLoad[j - 1];
            byLoad[j] = e;
        }
    }

    /**
     * Runs {@code body} for every expert, most rows first. When no expert holds more than one thread's
     * share of the {@code rows}, the experts are spread over the threads whole (each one's products run
     * on the thread that took it): one hand-off per expert instead of several per product, which on
     * small experts cost more than the imbalance. Otherwise they run one after another, each product
     * spread over the threads. Each expert writes only its own rows and gradients: the same bits either way.
     */
    private void forEachExpert(int rows, IntConsumer body) {
        int largest = expertStart[byLoad[0] + 1] - expertStart[byLoad[0]];
        if ((long) largest * Parallel.threads() <= rows) {
            Parallel.forRange(experts, i -> body.accept(byLoad[i]));
        } else {
            for (int i = 0; i < experts; i++) body.accept(byLoad[i]);
        }
    }

    /**
     * Gathers expert e's input rows (inside its job, so that they are still in cache for its products)
     * and runs its SwiGLU on them. The gather is a parallel loop when the experts run one after
     * another; inside a job spread over the threads it runs inline.
     */
    private void expertForward(int e) {
        int start = expertStart[e], count = expertStart[e + 1] - start;
        if (count == 0) return;
        float[] weights = router.weights();
        forEachRow(start, count, r -> {
            int a = rowSlot[r], src = (a / topK) * dim, dst = r * dim;
            float w = weightOnInput ? weights[a] : 1f;
            for (int i = 0; i < dim; i++) expertIn[dst + i] = w * input[src + i];
        });
        SwiGlu.forward(params, expertWeights[e], expertIn, start * dim, count,
                gate, up, start * expertHidden, expertOut, start * dim, false);
    }

    /**
     * Puts the gradient of expert e's output rows in place of those rows (with the weight on the
     * output, also each row's dLoss/dweight), inside its job as in {@link #expertForward}, and runs
     * its SwiGLU backward.
     */
    private void expertBackward(int e, float[] dOut) {
        int start = expertStart[e], count = expertStart[e + 1] - start;
        if (count == 0) return;
        float[] weights = router.weights();
        forEachRow(start, count, r -> {
            int a = rowSlot[r], src = (a / topK) * dim, dst = r * dim;
            if (weightOnInput) {
                System.arraycopy(dOut, src, expertOut, dst, dim);
            } else {
                float w = weights[a], dw = 0;
                for (int i = 0; i < dim; i++) {
                    dw += dOut[src + i] * expertOut[dst + i];
                    expertOut[dst + i] = w * dOut[src + i];
                }
                dWeights[a] = dw;
            }
        });
        SwiGlu.backward(params, grads, expertWeights[e], expertIn, start * dim, count,
                gate, up, start * expertHidden, expertOut, start * dim, dExpertIn, start * dim, false);
    }

    /** {@code row.accept(r)} for rows {@code [start, start + count)}, in blocks of {@link #ROW_BLOCK} spread over the threads. */
    private static void forEachRow(int start, int count, IntConsumer row) {
        Parallel.forRange(blocks(count), block -> {
            for (int r = start + block * ROW_BLOCK, end = Math.min(start + count, r + ROW_BLOCK); r < end; r++) row.accept(r);
        });
    }

    /** Also adds the gradients of auxAlpha·aux and zLoss·z with respect to the router logits. */
    @Override
    public void backward(float[] dOut, float[] dx, int n) {
        if (n != tokens)
            throw new IllegalArgumentException("MoE layer " + layer + ": backward over " + n + " tokens after a forward over " + tokens);
        float[] weights = router.weights();
        forEachExpert(n * topK, e -> expertBackward(e, dOut));
        if (sharedWeights != null)
            SwiGlu.backward(params, grads, sharedWeights, input, 0, n, sharedGate, sharedUp, 0, dOut, 0, dx, 0, false);
        else
            Arrays.fill(dx, 0, n * dim, 0f);
        // Back to the tokens; with the weight on the input, dLoss/dweight = dExpertIn · x.
        Parallel.forRange(blocks(n), block -> {
            for (int t = block * ROW_BLOCK, end = Math.min(n, t + ROW_BLOCK); t < end; t++) {
                int dst = t * dim;
                for (int j = 0; j < topK; j++) {
                    int a = t * topK + j, src = slotRow[a] * dim;
                    if (weightOnInput) {
                        float w = weights[a], dw = 0;
                        for (int i = 0; i < dim; i++) {
                            dw += dExpertIn[src + i] * input[dst + i];
                            dx[dst + i] += w * dExpertIn[src + i];
                        }
                        dWeights[a] = dw;
                    } else {
                        for (int i = 0; i < dim; i++) dx[dst + i] += dExpertIn[src + i];
                    }
                }
            }
        });
        router.backward(input, dWeights, dx, n);
    }

    /** Statistics of the last forward. */
    public RouterStats stats() {
        return router.stats(layer);
    }

    /** Expert of each (token, slot) of the last forward, {@code [n, k]}. */
    int[] selected() {
        return router.selected();
    }

    /** The aux-loss-free selection bias of this layer (live array, length experts). */
    public float[] bias() {
        return router.bias();
    }

    /**
     * DeepSeek-V3's update, once per optimizer step: each expert's bias moves by {@code gamma}
     * toward balance, up when it got fewer tokens than the mean, down when more.
     */
    public static void updateBias(float[] bias, long[] counts, double gamma) {
        if (bias.length != counts.length)
            throw new IllegalArgumentException("bias has " + bias.length + " experts but counts has " + counts.length);
        double mean = 0;
        for (long c : counts) mean += c;
        mean /= counts.length;
        for (int e = 0; e < bias.length; e++) bias[e] += (float) (gamma * Math.signum(mean - counts[e]));
    }

    private static int blocks(int rows) {
        return (rows + ROW_BLOCK - 1) / ROW_BLOCK;
    }
}
