package ai.behemoth.model;

import ai.behemoth.format.GgufFile;
import ai.behemoth.format.GgufValue;
import ai.behemoth.format.GgufWriter;
import ai.behemoth.model.ModelConfig.QkNorm;
import ai.behemoth.model.ModelConfig.Router;
import ai.behemoth.model.ModelConfig.RouterWeight;

import java.io.IOException;

/**
 * The llama.cpp architectures a Behemoth config maps onto, with their hyper-parameter keys
 * (llama.cpp {@code src/llama-arch.cpp}, {@code src/llama-model.cpp}):
 * <ul>
 * <li>{@code llama}: dense, or Mixtral-style experts on every layer (softmax router, top-k weights
 *     renormalised, applied to the expert output); the expert width is {@code feed_forward_length}.
 *     RoPE rotates adjacent pairs, so Q and K rows are stored permuted (see {@link #permutesQk}).</li>
 * <li>{@code qwen3}: dense SwiGLU on every layer, RMS QK norm with weights ({@code attn_q_norm},
 *     {@code attn_k_norm}, one per head dimension, before RoPE); RoPE rotates halves.</li>
 * <li>{@code qwen3moe}: as {@code qwen3} with experts on every layer, softmax and renormalised.</li>
 * <li>{@code llama4}: sigmoid router applied to the expert input, no renormalisation, a shared
 *     expert as wide as a routed one, MoE every {@code interleave_moe_layer_step} layers, weightless
 *     QK norm on RoPE layers; llama.cpp skips RoPE on every 4th layer (a fixed step) unless
 *     {@code attention.sliding_window} is 0, which turns NoPE off. With NoPE layers, llama.cpp also
 *     attends in chunks of 8192 on the RoPE layers and tunes the NoPE layers' temperature with floor
 *     8192 and scale 0.1, fixed numbers that no GGUF key carries (see {@link #llamaCppScope}).
 *     RoPE rotates adjacent pairs. With 128 experts (Maverick) llama.cpp skips the QK norm.</li>
 * </ul>
 * llama and llama4 files may carry {@code rope_freqs.weight} (Llama 3.1+ RoPE scaling); any
 * architecture may carry linear {@code rope.scaling.*} ({@link #ropeScale}). Keys Behemoth has no use
 * for are ignored.
 * Every architecture but llama4 attends to the whole context with unscaled queries.
 */
enum GgufArchitecture {
    LLAMA("llama", true, true), QWEN3("qwen3", false, false), QWEN3MOE("qwen3moe", false, false), LLAMA4("llama4", true, true);

    /** llama.cpp's llama4 chunk, temperature floor and scale (Llama 4 Scout's and Maverick's values). */
    static final int LLAMA4_CHUNK = 8192, LLAMA4_TEMPERATURE_FLOOR = 8192;
    static final double LLAMA4_TEMPERATURE_SCALE = 0.1;
    /** The expert count at which llama.cpp's llama4 takes the model for Maverick and skips the QK norm. */
    static final int LLAMA4_MAVERICK_EXPERTS = 128;

    final String key;
    /** Whether llama.cpp's RoPE for this architecture rotates adjacent pairs, so that Q/K rows are stored permuted. */
    final boolean permutesQk;
    /**
     * Whether llama.cpp reads an optional {@code rope_freqs.weight} for this architecture: {@code [headDim/2]}
     * divisors of the RoPE frequencies, applied wherever RoPE is (Llama 3.1+ and Llama 4 scaling).
     */
    final boolean hasRopeFreqs;

    GgufArchitecture(String key, boolean permutesQk, boolean hasRopeFreqs) {
        this.key = key;
        this.permutesQk = permutesQk;
        this.hasRopeFreqs = hasRopeFreqs;
    }

    /** The architecture for {@code c}; IllegalArgumentException saying why when llama.cpp cannot represent it. */
    static GgufArchitecture of(ModelConfig c, boolean hasRouterBias) {
        if (hasRouterBias)
            throw new IllegalArgumentException("the routers carry aux-loss-free selection biases, which llama.cpp's llama, qwen3moe and llama4 cannot hold");
        if (c.router() == Router.SIGMOID || c.routerWeight() == RouterWeight.INPUT || c.sharedExpertHidden() > 0) {
            require(c.experts() > 0, "a dense model with a sigmoid/input-weighted router setting");
            require(c.router() == Router.SIGMOID, "llama4 needs router sigmoid, not " + c.router());
            require(c.routerWeight() == RouterWeight.INPUT, "llama4 needs router_weight input (a sigmoid router on the expert output has no llama.cpp architecture)");
            require(!c.renormTopK(), "llama4 does not renormalise the top-k weights (renorm_top_k must be false with a sigmoid router)");
            require(c.sharedExpertHidden() == c.expertHidden(), "llama4 needs a shared expert as wide as a routed one (shared_expert_hidden "
                    + c.sharedExpertHidden() + ", expert_hidden " + c.expertHidden() + ")");
            require(c.nopeEvery() == 4 || c.nopeEvery() == 0, "llama4 skips RoPE on every 4th layer or never, not every " + c.nopeEvery());
            require(c.qkNorm() == llama4QkNorm(c.experts()), c.experts() == LLAMA4_MAVERICK_EXPERTS
                    ? "llama.cpp's llama4 skips the QK norm with 128 experts (Maverick), so qk_norm must be none, not " + c.qkNorm()
                    : "llama4 needs the weightless QK norm (qk_norm rms), not " + c.qkNorm());
            requireScopes(c, LLAMA4, c.nopeEvery() == 0 ? "without NoPE layers, llama.cpp's llama4 attends to the whole context"
                    : "llama.cpp's llama4 attends in chunks of " + LLAMA4_CHUNK + " on RoPE layers and tunes the NoPE layers' "
                    + "temperature with floor " + LLAMA4_TEMPERATURE_FLOOR + " and scale " + LLAMA4_TEMPERATURE_SCALE);
            return LLAMA4;
        }
        require(c.nopeEvery() == 0, "NoPE layers (nope_every " + c.nopeEvery() + ") exist only in llama4, which needs a sigmoid router");
        requireScopes(c, LLAMA, "llama, qwen3 and qwen3moe attend to the whole context");
        if (c.experts() > 0) {
            require(c.moeEvery() == 1, "MoE on every " + c.moeEvery() + " layers exists only in llama4");
            require(c.renormTopK(), "a softmax router without renormalised top-k weights has no llama.cpp architecture (llama and qwen3moe renormalise)");
        }
        if (c.qkNorm() == QkNorm.RMS_WEIGHT) return c.experts() > 0 ? QWEN3MOE : QWEN3;
        require(c.qkNorm() == QkNorm.NONE, "llama has no QK norm (qk_norm " + c.qkNorm() + ")");
        return LLAMA;
    }

    private static void require(boolean ok, String reason) {
        if (!ok) throw new IllegalArgumentException("cannot export to GGUF: " + reason);
    }

    /** Requires that every layer of {@code c} masks and scales its attention as llama.cpp's {@code arch} would, below the context. */
    private static void requireScopes(ModelConfig c, GgufArchitecture arch, String what) {
        for (int l = 0; l < c.layers(); l++)
            require(AttentionScope.of(c, l).sameBelow(AttentionScope.of(arch.llamaCppScope(c), l), c.context()), what
                    + ", but this config has attention_chunk " + c.attentionChunk() + ", temperature_floor " + c.temperatureFloor()
                    + " and temperature_scale " + c.temperatureScale() + ", which differ within its context of " + c.context());
    }

    /**
     * {@code c} with the chunk and temperature that llama.cpp uses for this architecture: llama4 with
     * NoPE layers has its fixed ones, every other case none.
     */
    ModelConfig llamaCppScope(ModelConfig c) {
        ModelConfig.Builder b = c.toBuilder();
        boolean llama4Nope = this == LLAMA4 && c.nopeEvery() > 0;
        b.attentionChunk = llama4Nope ? LLAMA4_CHUNK : 0;
        b.temperatureFloor = llama4Nope ? LLAMA4_TEMPERATURE_FLOOR : 0;
        b.temperatureScale = llama4Nope ? LLAMA4_TEMPERATURE_SCALE : 0;
        return b.build();
    }

    static GgufArchitecture named(String key, GgufFile file) throws IOException {
        for (GgufArchitecture a : values()) if (a.key.equals(key)) return a;
        throw new IOException(file.path() + ": general.architecture is '" + key + "'; Behemoth runs llama, qwen3, qwen3moe and llama4");
    }

    /** Writes {@code general.architecture} and the {@code <arch>.*} hyper-parameters of {@code c}. */
    void writeHyperParameters(ModelConfig c, GgufWriter out) {
        out.put("general.architecture", GgufValue.string(key));
        out.put(key + ".context_length", GgufValue.uint32(c.context()));
        out.put(key + ".embedding_length", GgufValue.uint32(c.dim()));
        out.put(key + ".block_count", GgufValue.uint32(c.layers()));
        boolean allMoe = c.experts() > 0 && c.moeEvery() == 1;
        out.put(key + ".feed_forward_length", GgufValue.uint32(this == LLAMA && allMoe ? c.expertHidden() : c.ffnHidden()));
        out.put(key + ".attention.head_count", GgufValue.uint32(c.heads()));
        out.put(key + ".attention.head_count_kv", GgufValue.uint32(c.kvHeads()));
        out.put(key + ".attention.key_length", GgufValue.uint32(c.headDim()));
        out.put(key + ".attention.value_length", GgufValue.uint32(c.headDim()));
        out.put(key + ".rope.dimension_count", GgufValue.uint32(c.headDim()));
        out.put(key + ".rope.freq_base", GgufValue.float32((float) c.ropeTheta()));
        out.put(key + ".attention.layer_norm_rms_epsilon", GgufValue.float32((float) c.normEps()));
        out.put(key + ".vocab_size", GgufValue.uint32(c.vocabSize()));
        if (c.experts() > 0) {
            out.put(key + ".expert_count", GgufValue.uint32(c.experts()));
            out.put(key + ".expert_used_count", GgufValue.uint32(c.topK()));
        }
        if (this != LLAMA && c.experts() > 0) out.put(key + ".expert_feed_forward_length", GgufValue.uint32(c.expertHidden()));
        if (this == LLAMA4) {
            out.put(key + ".interleave_moe_layer_step", GgufValue.uint32(c.moeEvery()));
            if (c.nopeEvery() == 0) out.put(key + ".attention.sliding_window", GgufValue.uint32(0));
        }
    }

    /** The config these hyper-parameters describe; {@code tied} when the file has no {@code output.weight}. */
    ModelConfig readConfig(GgufFile f, int vocabSize, boolean tied) throws IOException {
        int dim = u32(f, "embedding_length"), heads = u32(f, "attention.head_count");
        int kvHeads = has(f, "attention.head_count_kv") ? u32(f, "attention.head_count_kv") : heads;
        int headDim = has(f, "attention.key_length") ? u32(f, "attention.key_length") : dim / Math.max(1, heads);
        if (has(f, "attention.value_length") && u32(f, "attention.value_length") != headDim)
            throw new IOException(f.path() + ": " + key + ".attention.value_length differs from key_length; Behemoth needs them equal");
        if (has(f, "rope.dimension_count") && u32(f, "rope.dimension_count") != headDim)
            throw new IOException(f.path() + ": " + key + ".rope.dimension_count is " + u32(f, "rope.dimension_count")
                    + "; Behemoth rotates whole heads (" + headDim + ")");
        double theta = has(f, key + ".rope.freq_base") ? number(f, "rope.freq_base") : 10000;
        double eps = number(f, "attention.layer_norm_rms_epsilon");
        int ffn = u32(f, "feed_forward_length");
        int experts = has(f, "expert_count") ? u32(f, "expert_count") : 0;
        int topK = experts > 0 ? u32(f, "expert_used_count") : 0;
        int expertHidden = experts == 0 ? 0 : this == LLAMA ? ffn : u32(f, "expert_feed_forward_length");
        int context = u32(f, "context_length");
        int layers = u32(f, "block_count");
        ModelConfig config = switch (this) {
            case LLAMA -> new ModelConfig(vocabSize, dim, layers, heads, kvHeads, headDim, context, theta, eps, ffn, experts, topK,
                    expertHidden, 0, 1, Router.SOFTMAX, RouterWeight.OUTPUT, true, 0, QkNorm.NONE, tied, 0.02);
            case QWEN3 -> new ModelConfig(vocabSize, dim, layers, heads, kvHeads, headDim, context, theta, eps, ffn, 0, 0,
                    0, 0, 1, Router.SOFTMAX, RouterWeight.OUTPUT, true, 0, QkNorm.RMS_WEIGHT, tied, 0.02);
            case QWEN3MOE -> new ModelConfig(vocabSize, dim, layers, heads, kvHeads, headDim, context, theta, eps, ffn, experts, topK,
                    expertHidden, 0, 1, Router.SOFTMAX, RouterWeight.OUTPUT, true, 0, QkNorm.RMS_WEIGHT, tied, 0.02);
            case LLAMA4 -> {
                int step = has(f, "interleave_moe_layer_step") ? u32(f, "interleave_moe_layer_step") : 1;
                boolean noNope = has(f, "attention.sliding_window") && u32(f, "attention.sliding_window") == 0;
                if (!noNope) requireLlama4Chunking(f, theta);
                yield new ModelConfig(vocabSize, dim, layers, heads, kvHeads, headDim, context, theta, eps, ffn, experts, topK,
                        expertHidden, expertHidden, step, Router.SIGMOID, RouterWeight.INPUT, false, noNope ? 0 : 4,
                        llama4QkNorm(experts), tied, 0.02);
            }
        };
        try {
            return llamaCppScope(config.validate());
        } catch (IllegalArgumentException e) {
            throw new IOException(f.path() + ": the " + key + " hyper-parameters do not fit together: " + e.getMessage(), e);
        }
    }

    /**
     * llama.cpp's llama4 chunks every layer but each {@code attention.sliding_window_pattern}-th
     * (default 4) and gives the chunked layers {@code rope.freq_base_swa} (default the base); Behemoth
     * chunks exactly its RoPE layers, every layer but each 4th, with one base.
     */
    private void requireLlama4Chunking(GgufFile f, double theta) throws IOException {
        if (has(f, "attention.sliding_window_pattern") && u32(f, "attention.sliding_window_pattern") != 4)
            throw new IOException(f.path() + ": " + key + ".attention.sliding_window_pattern is " + u32(f, "attention.sliding_window_pattern")
                    + "; Behemoth chunks the RoPE layers, every layer but each 4th (pattern 4)");
        if (has(f, "rope.freq_base_swa") && (float) number(f, "rope.freq_base_swa") != (float) theta)
            throw new IOException(f.path() + ": " + key + ".rope.freq_base_swa " + number(f, "rope.freq_base_swa")
                    + " differs from rope.freq_base " + theta + "; Behemoth has one RoPE base");
    }

    /** llama.cpp's llama4 normalises Q and K on RoPE layers unless the model has 128 experts (Maverick); no key says so. */
    static QkNorm llama4QkNorm(int experts) {
        return experts == LLAMA4_MAVERICK_EXPERTS ? QkNorm.NONE : QkNorm.RMS;
    }

    /**
     * The divisor of every RoPE frequency that {@code rope.scaling.*} asks for: linear scaling's
     * factor (llama.cpp's {@code 1/rope_freq_scale}; type {@code linear} is llama.cpp's default, the
     * factor also under its old key {@code rope.scale_linear}), 1 for none. YaRN and LongRoPE change
     * RoPE in ways Behemoth does not compute: an IOException naming the key.
     */
    double ropeScale(GgufFile f) throws IOException {
        String type = has(f, "rope.scaling.type") ? f.getString(key + ".rope.scaling.type") : "linear";
        if (!type.equals("linear") && !type.equals("none"))
            throw new IOException(f.path() + ": " + key + ".rope.scaling.type is '" + type + "'; Behemoth runs RoPE unscaled or linearly scaled, not " + type);
        String factorKey = has(f, "rope.scaling.factor") ? "rope.scaling.factor" : has(f, "rope.scale_linear") ? "rope.scale_linear" : null;
        double factor = factorKey == null ? 0 : number(f, factorKey);
        if (type.equals("none") || factor == 0) return 1; // llama.cpp: a factor of 0 is none, and type none never scales
        if (!(factor > 0 && factor < Double.POSITIVE_INFINITY))
            throw new IOException(f.path() + ": " + key + "." + factorKey + " is " + factor + "; a RoPE scaling factor must be positive");
        return factor;
    }

    private boolean has(GgufFile f, String name) {
        return f.metadata().containsKey(name.startsWith(key + ".") ? name : key + "." + name);
    }

    private int u32(GgufFile f, String name) throws IOException {
        long v = f.getLong(key + "." + name);
        if (v < 0 || v > 1 << 30) throw new IOException(f.path() + ": metadata " + key + "." + name + " = " + v + " is out of range");
        return (int) v;
    }

    private double number(GgufFile f, String name) throws IOException {
        GgufValue v = f.get(key + "." + name);
        if (v.value() instanceof Float x) return x;
        if (v.value() instanceof Double x) return x;
        throw new IOException(f.path() + ": metadata " + key + "." + name + " is " + v.type() + ", expected FLOAT32");
    }

    /**
     * Where llama.cpp's pair-rotating layout keeps row {@code stored} of a Q or K matrix: in
     * Behemoth's layout (rotating halves), row {@code h·headDim + j·headDim/2 + i} of head h; the
     * GGUF file holds it at {@code h·headDim + 2i + j} (Hugging Face → GGUF converter's permutation).
     */
    static int originalRow(int stored, int headDim) {
        int head = stored / headDim, within = stored % headDim;
        return head * headDim + (within % 2) * (headDim / 2) + within / 2;
    }

    /** The inverse of {@link #originalRow}: the stored row of Behemoth's row {@code original}. */
    static int storedRow(int original, int headDim) {
        int head = original / headDim, within = original % headDim, half = headDim / 2;
        return head * headDim + 2 * (within % half) + within / half;
    }
}
