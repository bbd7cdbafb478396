package ai.behemoth.model;

import ai.behemoth.tensor.Parallel;
import ai.behemoth.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.List;

/**
 * The inference forward pass over {@link ModelWeights}: the same model as the training path
 * ({@code train.Transformer}), computed for a {@link Batch} of rows that each carry their sequence
 * and position, with keys and values kept in each {@link Sequence}'s cache.
 *
 * <pre>
 * x = embed(token)
 * per layer: x += wo·attention(rope/qk-norm(wq·n(x), wk·n(x)), wv·n(x), cache)   n = RMSNorm
 *            x += ffn(n(x))        (dense SwiGLU, or MoE: router, top-k, experts grouped by expert)
 * logits = output · n(x)           (only for the rows that ask)
 * </pre>
 *
 * Every linear layer runs as one matrix-matrix product over all rows of the batch, so a prompt
 * chunk of 64 tokens reads each weight once; MoE rows are sorted by expert and each expert runs
 * one product over its rows. Products that do not depend on each other (wq, wk and wv; the gate and
 * up of every chosen expert; their down) are handed to the thread pool together
 * ({@link MatrixProducts}), so a decode step waits at a few barriers per layer, not one per matrix.
 * A prompt chunk (rows of one sequence) attends through {@link PrefillAttention}, 16 keys per vector;
 * a decode step, or a batch of several sequences, one key at a time.
 * Buffers are allocated once for {@link #maxRows()} rows; one forward runs at a time (the method is
 * synchronized).
 */
public final class InferenceModel implements AutoCloseable {
    /** Rows of a prompt chunk when the caller does not say. */
    public static final int DEFAULT_CHUNK = 64;

    private final ModelWeights weights;
    private final ModelConfig config;
    private final int maxRows, dim, vocab, heads, kvHeads, headDim, qDim, kvDim;
    private final float eps;
    /** Positions whose RoPE angles are tabulated at first; the tables double as later positions are used, up to the context. */
    private static final int INITIAL_ROPE_POSITIONS = 256;
    private float[] ropeCos = new float[0], ropeSin = new float[0]; // [positions tabulated, hd/2]
    private final Matrix[][] expertGate, expertUp, expertDown; // [layer][expert], null on dense layers
    /** Each layer's keys and query scale (Llama 4: chunks on RoPE layers, temperature on NoPE layers). */
    private final AttentionScope[] scopes;

    // activations, [maxRows, ·]
    private final float[] x, normed, q, k, v, att, proj, ffnOut, hidden1, hidden2, logitRows;
    // MoE dispatch, [maxRows·topK, ·]
    private final float[] routerLogits, slotWeight, expertIn, expertOut, expertHidden1, expertHidden2;
    private final int[] selected, expertStart, nextRow, slotRow, rowSlot;
    /** Token-to-expert assignments made by the routers since the model was built, [layer][expert] (zero on dense layers). */
    private final long[][] expertTokens;
    /** The linear layers that can run at once (wq, wk, wv; every expert's gate and up; every expert's down), as one job. */
    private final MatrixProducts products;
    /** Attention of a prompt chunk (rows of one sequence); decode steps and mixed batches attend one key at a time. */
    private final PrefillAttention prefillAttention;
    /** The one-row batch of {@link #decode}, reused from token to token. */
    private final Batch decodeBatch;

    public InferenceModel(ModelWeights weights, int maxRows) {
        if (maxRows < 1) throw new IllegalArgumentException("maxRows must be positive, got " + maxRows);
        this.weights = weights;
        this.config = weights.config();
        this.maxRows = maxRows;
        this.dim = config.dim();
        this.vocab = config.vocabSize();
        this.heads = config.heads();
        this.kvHeads = config.kvHeads();
        this.headDim = config.headDim();
        this.qDim = config.qDim();
        this.kvDim = config.kvDim();
        this.eps = (float) config.normEps();

        tabulateRope(Math.min(config.context(), INITIAL_ROPE_POSITIONS));
        int layers = config.layers(), experts = config.experts();
        expertGate = new Matrix[layers][];
        expertUp = new Matrix[layers][];
        expertDown = new Matrix[layers][];
        scopes = new AttentionScope[layers];
        for (int l = 0; l < layers; l++) scopes[l] = AttentionScope.of(config, l);
        int ffnWidth = 0;
        for (int l = 0; l < layers; l++) {
            LayerWeights w = weights.layers().get(l);
            if (!w.isMoe()) {
                ffnWidth = Math.max(ffnWidth, w.gate().rows());
                continue;
            }
            int he = w.expertGate().rows() / experts;
            expertGate[l] = new Matrix[experts];
            expertUp[l] = new Matrix[experts];
            expertDown[l] = new Matrix[experts];
            for (int e = 0; e < experts; e++) {
                expertGate[l][e] = w.expertGate().slice(e * he, he);
                expertUp[l][e] = w.expertUp().slice(e * he, he);
                expertDown[l][e] = w.expertDown().slice(e * dim, dim);
            }
            if (w.sharedGate() != null) ffnWidth = Math.max(ffnWidth, w.sharedGate().rows());
        }
        int n = maxRows;
        x = new float[n * dim];
        normed = new float[n * dim];
        q = new float[n * qDim];
        k = new float[n * kvDim];
        v = new float[n * kvDim];
        att = new float[n * qDim];
        proj = new float[n * dim];
        ffnOut = new float[n * dim];
        hidden1 = new float[n * ffnWidth];
        hidden2 = new float[n * ffnWidth];
        logitRows = new float[n * dim];
        int slots = experts == 0 ? 0 : n * config.topK();
        routerLogits = new float[n * experts];
        selected = new int[slots];
        slotWeight = new float[slots];
        slotRow = new int[slots];
        rowSlot = new int[slots];
        expertStart = new int[experts + 1];
        expertTokens = new long[layers][experts];
        nextRow = new int[experts];
        expertIn = new float[slots * dim];
        expertOut = new float[slots * dim];
        expertHidden1 = new float[slots * config.expertHidden()];
        expertHidden2 = new float[slots * config.expertHidden()];
        products = new MatrixProducts(Math.max(3, 2 * experts + 2));
        prefillAttention = new PrefillAttention(heads, kvHeads, headDim);
        decodeBatch = newBatch();
    }

    public ModelConfig config() { return config; }

    public Tokenizer tokenizer() { return weights.tokenizer(); }

    public ModelWeights weights() { return weights; }

    /** How many tokens each layer's router has sent to each expert so far, {@code [layer][expert]} (a copy). */
    public synchronized long[][] expertTokenCounts() {
        long[][] copy = new long[expertTokens.length][];
        for (int l = 0; l < copy.length; l++) copy[l] = expertTokens[l].clone();
        return copy;
    }

    /** The most rows one forward takes. */
    public int maxRows() { return maxRows; }

    /** A new empty sequence that can hold the whole context. */
    public Sequence newSequence() {
        return newSequence(config.context());
    }

    /** A new empty sequence that holds at most {@code capacity} positions (1 to the model's context). */
    public Sequence newSequence(int capacity) {
        if (capacity < 1 || capacity > config.context())
            throw new IllegalArgumentException("a sequence holds 1 to " + config.context() + " positions, not " + capacity);
        return new Sequence(config.layers(), capacity, kvDim);
    }

    /** An empty batch of up to {@link #maxRows()} rows for this model. */
    public Batch newBatch() {
        return new Batch(maxRows, vocab);
    }

    /**
     * Appends {@code tokens} to {@code seq} in chunks of up to {@link #maxRows()} rows and returns the
     * logits after the last one. Throws, saying how many tokens, when they do not fit the context.
     */
    public float[] prefill(Sequence seq, int[] tokens) {
        if (tokens.length == 0) throw new IllegalArgumentException("nothing to prefill: no tokens");
        if (seq.length + tokens.length > seq.capacity())
            throw new IllegalArgumentException("prompt of " + tokens.length + " tokens does not fit the context: "
                    + seq.length + " of " + seq.capacity() + " positions are used");
        Batch batch = newBatch();
        float[] last = null;
        for (int start = 0; start < tokens.length; start += maxRows) {
            int end = Math.min(tokens.length, start + maxRows);
            batch.clear();
            for (int i = start; i < end; i++) batch.add(seq, tokens[i], i == tokens.length - 1);
            forward(batch);
            if (end == tokens.length) last = batch.logits(batch.size() - 1);
        }
        return last;
    }

    /** Appends one token and returns the logits that follow it (a fresh array). */
    public float[] decode(Sequence seq, int token) {
        return decode(seq, token, null);
    }

    /**
     * Appends one token and writes the logits that follow it into {@code into} when it holds exactly
     * V floats, else into a new array; returns the array written. A generation loop that passes its
     * last logits back allocates nothing per token (a 128K vocabulary's copy is half a megabyte).
     */
    public synchronized float[] decode(Sequence seq, int token, float[] into) {
        decodeBatch.clear();
        decodeBatch.add(seq, token, true);
        forward(decodeBatch);
        return decodeBatch.logits(0, into);
    }

    /** Runs every row of {@code batch}: fills the caches, advances the sequences, sets the wanted logits. */
    public synchronized void forward(Batch batch) {
        int n = batch.size;
        if (n == 0) return;
        if (n > maxRows) throw new IllegalArgumentException("batch of " + n + " rows, this model runs at most " + maxRows);
        for (int r = 0; r < n; r++) {
            int t = batch.token[r];
            if (t < 0 || t >= vocab) {
                batch.clear();
                throw new IllegalArgumentException("token id " + t + " outside vocabulary 0.." + (vocab - 1));
            }
        }
        for (int r = 0; r < n; r++) {
            weights.embedding().row(batch.token[r], x, r * dim);
            batch.sequence[r].reserve(batch.position[r] + 1);
            tabulateRope(batch.position[r] + 1);
        }
        List<LayerWeights> layers = weights.layers();
        for (int l = 0; l < layers.size(); l++) {
            LayerWeights w = layers.get(l);
            rmsNorm(normed, x, w.attentionNorm(), n, dim);
            attention(l, w, batch, n);
            addInto(x, proj, n * dim);
            rmsNorm(normed, x, w.ffnNorm(), n, dim);
            if (w.isMoe()) moe(l, w, n);
            else swiGlu(w.gate(), w.up(), w.down(), n);
            addInto(x, ffnOut, n * dim);
        }
        int wanted = 0;
        for (int r = 0; r < n; r++) {
            batch.logitIndex[r] = -1;
            if (!batch.wantLogits[r]) continue;
            System.arraycopy(x, r * dim, logitRows, wanted * dim, dim);
            batch.logitIndex[r] = wanted++;
        }
        if (batch.logits.length < wanted * vocab) batch.logits = new float[wanted * vocab];
        rmsNorm(logitRows, logitRows, weights.norm(), wanted, dim);
        weights.output().multiply(logitRows, 0, wanted, batch.logits, 0);
        for (int r = 0; r < n; r++) {
            Sequence s = batch.sequence[r];
            s.length = batch.position[r] + 1;
            s.pending = 0;
        }
    }

    private void attention(int layer, LayerWeights w, Batch batch, int n) {
        products.add(w.wq(), normed, 0, n, q, 0);
        products.add(w.wk(), normed, 0, n, k, 0);
        products.add(w.wv(), normed, 0, n, v, 0);
        products.run();
        boolean rope = config.usesRope(layer), qk = config.usesQkNorm(layer);
        boolean normBefore = qk && config.qkNorm() == ModelConfig.QkNorm.RMS_WEIGHT;
        boolean normAfter = qk && config.qkNorm() == ModelConfig.QkNorm.RMS;
        for (int r = 0; r < n; r++) {
            int pos = batch.position[r];
            for (int h = 0; h < heads + kvHeads; h++) {
                float[] buf = h < heads ? q : k;
                int off = h < heads ? r * qDim + h * headDim : r * kvDim + (h - heads) * headDim;
                if (normBefore) rmsNormRow(buf, off, buf, off, h < heads ? w.qNorm() : w.kNorm(), headDim);
                if (rope) rotate(buf, off, pos);
                if (normAfter) rmsNormRow(buf, off, buf, off, null, headDim);
            }
            Sequence s = batch.sequence[r];
            System.arraycopy(k, r * kvDim, s.keys[layer], pos * kvDim, kvDim);
            System.arraycopy(v, r * kvDim, s.values[layer], pos * kvDim, kvDim);
        }
        int group = heads / kvHeads;
        float scale = (float) (1.0 / Math.sqrt(headDim));
        AttentionScope scope = scopes[layer];
        if (PrefillAttention.applies(batch, n)) {
            prefillAttention.attend(layer, batch, n, q, att, scope, scale);
            w.wo().multiply(att, 0, n, proj, 0);
            return;
        }
        Parallel.forRange(n * heads, task -> {
            int r = task / heads, h = task % heads, kvh = h / group, pos = batch.position[r], first = scope.firstKey(pos);
            Sequence s = batch.sequence[r];
            float[] keys = s.keys[layer], values = s.values[layer];
            float[] scores = scratch(Math.max(pos + 1 + headDim, PrefillAttention.scoreSpan(pos)));
            int qo = r * qDim + h * headDim, scaledQ = pos + 1;
            float qScale = scale * scope.queryScale(pos);
            for (int d = 0; d < headDim; d++) scores[scaledQ + d] = q[qo + d] * qScale;
            Matrix.dots(scores, scaledQ, keys, kvDim, kvh * headDim, headDim, first, pos, scores);
            float max = Float.NEGATIVE_INFINITY;
            for (int t = first; t <= pos; t++) max = Math.max(max, scores[t]);
            prefillAttention.softmaxAndMix(scores, first, pos, max, 0, kvh * headDim, values, att, qo); // the scaled q is spent
        });
        w.wo().multiply(att, 0, n, proj, 0);
    }

    private static final ThreadLocal<float[][]> SCORES = ThreadLocal.withInitial(() -> new float[1][0]);

    private static float[] scratch(int size) {
        float[][] holder = SCORES.get();
        if (holder[0].length < size) holder[0] = new float[Math.max(size, 2 * holder[0].length)];
        return holder[0];
    }

    /** Mixture of experts over {@code normed[n, D]} into {@code ffnOut}: the router semantics of {@code train.Router}. */
    private void moe(int layer, LayerWeights w, int n) {
        int experts = config.experts(), topK = config.topK();
        boolean weightOnInput = config.routerWeight() == ModelConfig.RouterWeight.INPUT;
        w.router().multiply(normed, 0, n, routerLogits, 0);
        for (int t = 0; t < n; t++) route(t, w.routerBias());

        // Stable counting sort of the (token, slot) assignments by expert.
        Arrays.fill(expertStart, 0);
        for (int a = 0; a < n * topK; a++) expertStart[selected[a] + 1]++;
        for (int e = 0; e < experts; e++) expertTokens[layer][e] += expertStart[e + 1];
        for (int e = 0; e < experts; e++) expertStart[e + 1] += expertStart[e];
        System.arraycopy(expertStart, 0, nextRow, 0, experts);
        for (int a = 0; a < n * topK; a++) {
            int row = nextRow[selected[a]]++;
            slotRow[a] = row;
            rowSlot[row] = a;
        }
        for (int row = 0; row < n * topK; row++) {
            int a = rowSlot[row], src = (a / topK) * dim, dst = row * dim;
            float scale = weightOnInput ? slotWeight[a] : 1f;
            for (int i = 0; i < dim; i++) expertIn[dst + i] = scale * normed[src + i];
        }
        // SwiGLU of every chosen expert (and the shared one): all gate and up products with their activation in one job, all down products in another.
        int he = config.expertHidden(), sh = w.sharedGate() == null ? 0 : w.sharedGate().rows();
        for (int e = 0; e < experts; e++) {
            int start = expertStart[e], count = expertStart[e + 1] - start;
            if (count == 0) continue;
            products.addSwiGlu(expertGate[layer][e], expertUp[layer][e], expertIn, start * dim, count, expertHidden1, start * he, expertHidden2, start * he);
        }
        if (sh > 0) products.addSwiGlu(w.sharedGate(), w.sharedUp(), normed, 0, n, hidden1, 0, hidden2, 0);
        products.run();
        for (int e = 0; e < experts; e++) {
            int start = expertStart[e], count = expertStart[e + 1] - start;
            if (count > 0) products.add(expertDown[layer][e], expertHidden1, start * he, count, expertOut, start * dim);
        }
        if (sh > 0) products.add(w.sharedDown(), hidden1, 0, n, ffnOut, 0);
        else Arrays.fill(ffnOut, 0, n * dim, 0f);
        products.run();
        for (int t = 0; t < n; t++) {
            int dst = t * dim;
            for (int j = 0; j < topK; j++) {
                int a = t * topK + j, src = slotRow[a] * dim;
                float scale = weightOnInput ? 1f : slotWeight[a];
                for (int i = 0; i < dim; i++) ffnOut[dst + i] += scale * expertOut[src + i];
            }
        }
    }

    /**
     * Scores (softmax or sigmoid), then {@link ExpertChoice}: top-k by score + selection bias and the
     * mixing weights, as in training.
     */
    private void route(int t, float[] bias) {
        int experts = config.experts(), topK = config.topK(), row = t * experts, slot = t * topK;
        float[] scores = scratch(experts);
        if (config.router() == ModelConfig.Router.SIGMOID) {
            for (int e = 0; e < experts; e++) scores[e] = MatrixProducts.sigmoid(routerLogits[row + e]);
        } else {
            float max = Float.NEGATIVE_INFINITY;
            for (int e = 0; e < experts; e++) max = Math.max(max, routerLogits[row + e]);
            double sum = 0;
            for (int e = 0; e < experts; e++) sum += Math.exp(routerLogits[row + e] - max);
            for (int e = 0; e < experts; e++) scores[e] = (float) (Math.exp(routerLogits[row + e] - max) / sum);
        }
        ExpertChoice.choose(scores, 0, experts, bias, topK, config.renormTopK(), selected, slotWeight, slot);
    }

    /** A dense feed-forward layer: {@code ffnOut[n, D] = down·(silu(gate·normed) ⊙ up·normed)}. */
    private void swiGlu(Matrix gate, Matrix up, Matrix down, int n) {
        products.addSwiGlu(gate, up, normed, 0, n, hidden1, 0, hidden2, 0);
        products.run();
        down.multiply(hidden1, 0, n, ffnOut, 0);
    }

    /** RMSNorm of {@code n} rows; a prompt chunk's rows spread over the threads (a row's sum of squares is one serial chain). */
    private void rmsNorm(float[] out, float[] in, float[] w, int n, int d) {
        if (n == 1) rmsNormRow(out, 0, in, 0, w, d);
        else Parallel.forRange(n, r -> rmsNormRow(out, r * d, in, r * d, w, d));
    }

    /** {@code y = x·rsqrt(mean(x²) + eps)·w}; weightless when {@code w} is null. */
    private void rmsNormRow(float[] y, int yOff, float[] x, int xOff, float[] w, int d) {
        float ss = 0;
        for (int i = 0; i < d; i++) ss += x[xOff + i] * x[xOff + i];
        float rstd = (float) (1.0 / Math.sqrt(ss / d + eps));
        for (int i = 0; i < d; i++) y[yOff + i] = w == null ? x[xOff + i] * rstd : x[xOff + i] * rstd * w[i];
    }

    /**
     * Extends the RoPE tables to at least {@code positions} positions (doubling, at most the context),
     * so that a model with a long context (Llama 4 Scout: 10M) holds tables only for the positions used.
     * Pair i turns by {@code t·θ^(-2i/hd) / factor[i]} when the weights carry RoPE frequency factors
     * (llama.cpp divides the angle of pair i by {@code rope_freqs[i]}), by {@code t·θ^(-2i/hd)} otherwise.
     */
    private void tabulateRope(int positions) {
        int half = headDim / 2, held = ropeCos.length / half;
        if (positions <= held) return;
        int grown = (int) Math.min(config.context(), Math.max(positions, 2L * held));
        ropeCos = Arrays.copyOf(ropeCos, Math.multiplyExact(grown, half));
        ropeSin = Arrays.copyOf(ropeSin, grown * half);
        float[] factors = weights.ropeFactors();
        for (int t = held; t < grown; t++) {
            for (int i = 0; i < half; i++) {
                double angle = t * Math.pow(config.ropeTheta(), -2.0 * i / headDim);
                if (factors != null) angle /= factors[i];
                ropeCos[t * half + i] = (float) Math.cos(angle);
                ropeSin[t * half + i] = (float) Math.sin(angle);
            }
        }
    }

    /** RoPE on halves: the pair {@code (x[i], x[i + hd/2])} turns by the angle {@link #tabulateRope} holds for {@code (pos, i)}. */
    private void rotate(float[] buf, int off, int pos) {
        int half = headDim / 2, c = pos * half;
        for (int i = 0; i < half; i++) {
            float a = buf[off + i], b = buf[off + half + i], co = ropeCos[c + i], si = ropeSin[c + i];
            buf[off + i] = a * co - b * si;
            buf[off + half + i] = a * si + b * co;
        }
    }

    private static void addInto(float[] acc, float[] add, int n) {
        for (int i = 0; i < n; i++) acc[i] += add[i];
    }

    @Override
    public void close() {
        weights.close();
    }
}
