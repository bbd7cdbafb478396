package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where every parameter lives in the one flat float buffer that training uses, and its name in
 * {@code model.safetensors}. Names follow Meta's Llama layout; expert weights are stacked 3-D
 * tensors {@code [experts, rows, cols]}. Matrices are row-major {@code [out, in]} (y = x·Wᵀ).
 *
 * <pre>
 * tok_embeddings.weight                         [V, D]
 * layers.N.attention_norm.weight                [D]
 * layers.N.attention.wq.weight                  [H*hd, D]
 * layers.N.attention.wk.weight / wv.weight      [KV*hd, D]
 * layers.N.attention.wo.weight                  [D, H*hd]
 * layers.N.attention.q_norm.weight / k_norm     [hd]          (qk_norm = rms_weight only)
 * layers.N.ffn_norm.weight                      [D]
 * dense layer:  layers.N.feed_forward.w1.weight (gate) [F, D], w3.weight (up) [F, D], w2.weight (down) [D, F]
 * MoE layer:    layers.N.feed_forward.router.weight    [E, D]
 *               layers.N.feed_forward.experts.w1       [E, He, D]   (gate)
 *               layers.N.feed_forward.experts.w3       [E, He, D]   (up)
 *               layers.N.feed_forward.experts.w2       [E, D, He]   (down)
 *               layers.N.feed_forward.shared_expert.w1.weight / w3.weight [Hs, D], w2.weight [D, Hs]  (when Hs > 0)
 * norm.weight                                   [D]
 * output.weight                                 [V, D]        (absent when embeddings are tied)
 * </pre>
 */
public final class ParameterLayout {

    /** One tensor: its name, shape, offset into the flat buffer, and whether weight decay applies. */
    public record Entry(String name, int[] shape, int offset, int size, boolean decay) {}

    private final Map<String, Entry> byName = new LinkedHashMap<>();
    private int total;

    public ParameterLayout(ModelConfig c) {
        int d = c.dim(), hd = c.headDim();
        add("tok_embeddings.weight", true, c.vocabSize(), d);
        for (int i = 0; i < c.layers(); i++) {
            String p = "layers." + i + ".";
            add(p + "attention_norm.weight", false, d);
            add(p + "attention.wq.weight", true, c.qDim(), d);
            add(p + "attention.wk.weight", true, c.kvDim(), d);
            add(p + "attention.wv.weight", true, c.kvDim(), d);
            add(p + "attention.wo.weight", true, d, c.qDim());
            if (c.qkNorm() == ModelConfig.QkNorm.RMS_WEIGHT) {
                add(p + "attention.q_norm.weight", false, hd);
                add(p + "attention.k_norm.weight", false, hd);
            }
            add(p + "ffn_norm.weight", false, d);
            if (c.isMoeLayer(i)) {
                int e = c.experts(), h = c.expertHidden();
                add(p + "feed_forward.router.weight", true, e, d);
                add(p + "feed_forward.experts.w1", true, e, h, d);
                add(p + "feed_forward.experts.w3", true, e, h, d);
                add(p + "feed_forward.experts.w2", true, e, d, h);
                if (c.sharedExpertHidden() > 0) {
                    int s = c.sharedExpertHidden();
                    add(p + "feed_forward.shared_expert.w1.weight", true, s, d);
                    add(p + "feed_forward.shared_expert.w3.weight", true, s, d);
                    add(p + "feed_forward.shared_expert.w2.weight", true, d, s);
                }
            } else {
                int f = c.ffnHidden();
                add(p + "feed_forward.w1.weight", true, f, d);
                add(p + "feed_forward.w3.weight", true, f, d);
                add(p + "feed_forward.w2.weight", true, d, f);
            }
        }
        add("norm.weight", false, d);
        if (!c.tiedEmbeddings()) add("output.weight", true, c.vocabSize(), d);
    }

    private void add(String name, boolean decay, int... shape) {
        long size = 1;
        for (int s : shape) size *= s;
        if (total + size > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException("model too large for the training path: over 2^31 parameters at " + name);
        byName.put(name, new Entry(name, shape, total, (int) size, decay));
        total += (int) size;
    }

    /** Total number of float parameters. */
    public int size() {
        return total;
    }

    public Entry get(String name) {
        Entry e = byName.get(name);
        if (e == null) throw new IllegalArgumentException("no parameter named " + name);
        return e;
    }

    public boolean has(String name) {
        return byName.containsKey(name);
    }

    /** All entries in buffer order. */
    public List<Entry> entries() {
        return Collections.unmodifiableList(new ArrayList<>(byName.values()));
    }
}
