package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.tensor.MatMul;
import ai.behemoth.tensor.Parallel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The training model: an explicit forward that keeps activations and an explicit backward, over
 * one flat parameter buffer laid out by {@link ParameterLayout}. Inputs are token ids {@code [B, T]}.
 *
 * <pre>
 * x = embed(tokens)
 * per layer: x = x + attention(rmsnorm(x)); x = x + ffn(rmsnorm(x))     (ffn: dense SwiGLU or MoE)
 * logits = rmsnorm(x)·Wᵀ   (W = output.weight, or the embedding table when tied)
 * loss = mean cross-entropy + auxAlpha·Σ aux + zLoss·Σ z
 * </pre>
 *
 * All activations are allocated once for {@code maxBatch × maxSeq}; smaller batches reuse them.
 */
public final class Transformer {
    private final ModelConfig config;
    private final ParameterLayout layout;
    private final Balance balance;
    private final int maxBatch, maxSeq, dim, vocab;
    private final float eps;
    private final float[] params, grads;
    private final int embedding, head, finalNorm;
    private final int[] attnNorm, ffnNorm;
    private final Attention[] attention;
    private final FeedForward[] ffn;
    private final List<MoeFfn> moeLayers = new ArrayList<>();

    // activations, [maxBatch·maxSeq, ·]
    private final float[][] resid;     // resid[l]: input of layer l; resid[layers]: input of the final norm
    private final float[][] mid;       // after each layer's attention residual
    private final float[][] attnIn, ffnIn;           // normalised inputs of attention and FFN
    private final float[][] attnRstd, ffnRstd;
    private final float[] finalOut, finalRstd, blockOut, logits, rowLoss, lossLanes;
    // gradients of activations
    private final float[] dResid, dNormed;
    private final float[] probs;       // softmax of the logits; backward turns it into their gradient

    private int[] tokens, targets;
    private int batch, seq;
    private boolean backwardReady;

    /** Allocates parameters, gradients and activations for batches up to {@code maxBatch × maxSeq}. */
    public Transformer(ModelConfig config, Balance balance, int maxBatch, int maxSeq) {
        this.config = config.validate();
        this.layout = new ParameterLayout(config);
        if (balance == null) throw new IllegalArgumentException("balance must be set");
        if (maxBatch < 1 || maxSeq < 1)
            throw new IllegalArgumentException("batch and sequence length must be positive, got " + maxBatch + " × " + maxSeq);
        this.balance = balance;
        this.maxBatch = maxBatch;
        this.maxSeq = maxSeq;
        this.dim = config.dim();
        this.vocab = config.vocabSize();
        this.eps = (float) config.normEps();
        this.params = new float[layout.size()];
        this.grads = new float[layout.size()];
        this.embedding = layout.get("tok_embeddings.weight").offset();
        this.head = layout.get(config.tiedEmbeddings() ? "tok_embeddings.weight" : "output.weight").offset();
        this.finalNorm = layout.get("norm.weight").offset();

        long widest = (long) maxBatch * maxSeq * Math.max(vocab, Math.max(config.qDim() + 2 * config.kvDim(), config.ffnHidden()));
        if (widest > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException("activations for batch " + maxBatch + " × sequence " + maxSeq
                    + " exceed 2^31 floats per buffer: use a smaller batch or sequence");
        int layers = config.layers(), n = maxBatch * maxSeq;
        Rope rope = new Rope(config.headDim(), config.ropeTheta(), maxSeq);
        FlashAttention core = new FlashAttention(config.heads(), config.kvHeads(), config.headDim(), maxSeq);
        attnNorm = new int[layers];
        ffnNorm = new int[layers];
        attention = new Attention[layers];
        ffn = new FeedForward[layers];
        for (int l = 0; l < layers; l++) {
            String p = "layers." + l + ".";
            attnNorm[l] = layout.get(p + "attention_norm.weight").offset();
            ffnNorm[l] = layout.get(p + "ffn_norm.weight").offset();
            attention[l] = new Attention(config, layout, l, params, grads, rope, core, maxBatch, maxSeq);
            if (config.isMoeLayer(l)) {
                MoeFfn moe = new MoeFfn(config, layout, l, balance, params, grads, n);
                moeLayers.add(moe);
                ffn[l] = moe;
            } else {
                SwiGlu.Weights w = new SwiGlu.Weights(layout.get(p + "feed_forward.w1.weight").offset(),
                        layout.get(p + "feed_forward.w3.weight").offset(),
                        layout.get(p + "feed_forward.w2.weight").offset(), dim, config.ffnHidden());
                ffn[l] = new DenseFfn(params, grads, w, n);
            }
        }
        resid = new float[layers + 1][n * dim];
        mid = new float[layers][n * dim];
        attnIn = new float[layers][n * dim];
        ffnIn = new float[layers][n * dim];
        attnRstd = new float[layers][n];
        ffnRstd = new float[layers][n];
        finalOut = new float[n * dim];
        finalRstd = new float[n];
        blockOut = new float[n * dim];
        logits = new float[n * vocab];
        rowLoss = new float[n];
        lossLanes = new float[n * CrossEntropy.LANES];
        dResid = new float[n * dim];
        dNormed = new float[n * dim];
        probs = new float[n * vocab];
    }

    public ModelConfig config() { return config; }

    public ParameterLayout layout() { return layout; }

    /** The flat parameter buffer (live: writes change the model). */
    public float[] params() { return params; }

    /** The flat gradient buffer, same layout as {@link #params()}. */
    public float[] grads() { return grads; }

    /**
     * Truncated normal (±2σ, σ = init_std) for matrices and embeddings, ones for norm weights, drawn
     * in layout order from one generator seeded with {@code seed}; router selection biases reset to zero.
     */
    public void initialize(long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double std = config.initStd();
        for (ParameterLayout.Entry e : layout.entries()) {
            int end = e.offset() + e.size();
            if (!e.decay()) {
                Arrays.fill(params, e.offset(), end, 1f);
                continue;
            }
            for (int i = e.offset(); i < end; i++) {
                double z;
                do z = random.nextGaussian(); while (Math.abs(z) > 2);
                params[i] = (float) (z * std);
            }
        }
        for (MoeFfn moe : moeLayers) Arrays.fill(moe.bias(), 0f);
        backwardReady = false;
    }

    /**
     * Forward over {@code tokens[B·T]}; with {@code targets} (same shape) computes the loss and keeps
     * what backward needs. With {@code targets == null} only logits are computed and null is returned.
     * Backward reads both arrays again: leave them unchanged until it has run.
     */
    public Loss forward(int[] tokens, int[] targets, int batch, int seq) {
        if (batch < 1 || batch > maxBatch || seq < 1 || seq > maxSeq)
            throw new IllegalArgumentException("batch × seq " + batch + " × " + seq + " outside 1.." + maxBatch + " × 1.." + maxSeq);
        int n = batch * seq;
        checkIds("token", tokens, n);
        if (targets != null) checkIds("target", targets, n);
        this.tokens = tokens;
        this.targets = targets;
        this.batch = batch;
        this.seq = seq;
        backwardReady = false;

        Embedding.forward(resid[0], params, embedding, tokens, n, dim);
        for (int l = 0; l < config.layers(); l++) {
            RmsNorm.forward(attnIn[l], resid[l], params, attnNorm[l], attnRstd[l], n, dim, eps);
            attention[l].forward(attnIn[l], blockOut, batch, seq);
            add(mid[l], resid[l], blockOut, n * dim);
            RmsNorm.forward(ffnIn[l], mid[l], params, ffnNorm[l], ffnRstd[l], n, dim, eps);
            ffn[l].forward(ffnIn[l], blockOut, n);
            add(resid[l + 1], mid[l], blockOut, n * dim);
        }
        RmsNorm.forward(finalOut, resid[config.layers()], params, finalNorm, finalRstd, n, dim, eps);
        MatMul.abT(logits, 0, finalOut, 0, params, head, n, dim, vocab, false);
        if (targets == null) return null;

        double ce = CrossEntropy.forward(logits, targets, probs, rowLoss, lossLanes, n, vocab);
        double aux = 0, z = 0;
        for (MoeFfn moe : moeLayers) {
            RouterStats s = moe.stats();
            aux += s.aux();
            z += s.z();
        }
        backwardReady = true;
        return new Loss(ce + balance.effectiveAuxAlpha() * aux + balance.zLoss() * z, ce, aux, z);
    }

    /** Backward of the last forward's total loss; accumulates into {@link #grads()}. */
    public void backward() {
        if (!backwardReady) throw new IllegalStateException("backward needs a forward with targets first (once per forward)");
        backwardReady = false;
        int n = batch * seq, layers = config.layers();
        CrossEntropy.backward(probs, targets, n, vocab);
        MatMul.aTb(grads, head, probs, 0, finalOut, 0, vocab, n, dim, true);
        MatMul.ab(dNormed, 0, probs, 0, params, head, n, vocab, dim, false);
        Arrays.fill(dResid, 0, n * dim, 0f);
        RmsNorm.backward(dResid, dNormed, resid[layers], params, finalNorm, finalRstd, grads, finalNorm, n, dim);
        for (int l = layers - 1; l >= 0; l--) {
            // dResid is the gradient of this layer's output: it flows straight to mid and through the FFN.
            ffn[l].backward(dResid, dNormed, n);
            RmsNorm.backward(dResid, dNormed, mid[l], params, ffnNorm[l], ffnRstd[l], grads, ffnNorm[l], n, dim);
            attention[l].backward(dResid, dNormed, batch, seq);
            RmsNorm.backward(dResid, dNormed, resid[l], params, attnNorm[l], attnRstd[l], grads, attnNorm[l], n, dim);
        }
        Embedding.backward(grads, embedding, tokens, dResid, n, dim);
    }

    public void zeroGrads() {
        Parallel.forRange((grads.length + CHUNK - 1) / CHUNK, c -> Arrays.fill(grads, c * CHUNK, Math.min(grads.length, (c + 1) * CHUNK), 0f));
    }

    /** Logits {@code [B·T, V]} of the last forward (the buffer is sized for the largest batch). */
    public float[] logits() { return logits; }

    /** One entry per MoE layer, from the last forward. */
    public List<RouterStats> routerStats() {
        List<RouterStats> stats = new ArrayList<>(moeLayers.size());
        for (MoeFfn moe : moeLayers) stats.add(moe.stats());
        return stats;
    }

    /**
     * The expert each (token, slot) was routed to in the last forward, {@code [B·T, k]} best first,
     * one live array per MoE layer in layer order (for {@code behemoth inspect experts}).
     */
    public List<int[]> routedExperts() {
        List<int[]> out = new ArrayList<>(moeLayers.size());
        for (MoeFfn moe : moeLayers) out.add(moe.selected());
        return out;
    }

    /**
     * DeepSeek-V3 selection biases, one array of length {@code experts} per MoE layer (in layer
     * order). Added to router scores for top-k selection only, never to the mixing weights.
     */
    public float[][] routerBias() {
        float[][] bias = new float[moeLayers.size()][];
        for (int i = 0; i < bias.length; i++) bias[i] = moeLayers.get(i).bias();
        return bias;
    }

    private void checkIds(String what, int[] ids, int n) {
        if (ids.length < n) throw new IllegalArgumentException(what + " array holds " + ids.length + " ids, need " + n);
        for (int i = 0; i < n; i++) {
            if (ids[i] < 0 || ids[i] >= vocab)
                throw new IllegalArgumentException(what + " id " + ids[i] + " at position " + i + " outside vocabulary 0.." + (vocab - 1));
        }
    }

    /** Elements per parallel task of the whole-buffer loops (zeroing, residual adds). */
    private static final int CHUNK = 1 << 14;

    private static void add(float[] out, float[] a, float[] b, int n) {
        Parallel.forRange((n + CHUNK - 1) / CHUNK, c -> {
            for (int i = c * CHUNK, end = Math.min(n, i + CHUNK); i < end; i++) out[i] = a[i] + b[i];
        });
    }
}
