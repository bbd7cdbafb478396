package ai.behemoth.model;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The shape of one decoder-only MoE transformer, covering Mixtral, Qwen3-MoE, Llama 4 and dense
 * Llama layouts. Immutable; {@link #validate()} rejects shapes that do not fit together.
 *
 * <p>Layer rules, as llama.cpp and Hugging Face {@code modeling_llama4.py} define them:
 * layer {@code i} is MoE when {@code experts > 0 && (i + 1) % moeEvery == 0}, else a dense SwiGLU;
 * layer {@code i} skips RoPE (NoPE) when {@code nopeEvery > 0 && (i + 1) % nopeEvery == 0}.
 * RoPE rotates halves ({@code x[i], x[i + headDim/2]}), the Hugging Face convention.
 *
 * <p>Llama 4's long-context attention ({@link AttentionScope}): with {@code attentionChunk > 0}
 * the RoPE layers attend only within chunks of that many positions (Hugging Face
 * {@code attention_chunk_size}); with {@code temperatureFloor > 0} the NoPE layers multiply the
 * query at position {@code p} by {@code log(floor((p + 1) / temperatureFloor) + 1)·temperatureScale + 1}
 * ({@code floor_scale}, {@code attn_scale}). Both 0 (off) in configs saved before they existed.
 */
public record ModelConfig(
        int vocabSize,
        int dim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int context,
        double ropeTheta,
        double normEps,
        int ffnHidden,
        int experts,
        int topK,
        int expertHidden,
        int sharedExpertHidden,
        int moeEvery,
        Router router,
        RouterWeight routerWeight,
        boolean renormTopK,
        int nopeEvery,
        QkNorm qkNorm,
        boolean tiedEmbeddings,
        double initStd,
        int attentionChunk,
        int temperatureFloor,
        double temperatureScale) {

    /** The fields added after configs were first saved, with the values that keep those configs' meaning. */
    private static final Map<String, Number> ADDED_LATER = Map.of(
            "attention_chunk", 0, "temperature_floor", 0, "temperature_scale", 0.0);

    /** A config without chunked attention or attention-temperature tuning (the model families before Llama 4's long context). */
    public ModelConfig(int vocabSize, int dim, int layers, int heads, int kvHeads, int headDim, int context, double ropeTheta,
                       double normEps, int ffnHidden, int experts, int topK, int expertHidden, int sharedExpertHidden,
                       int moeEvery, Router router, RouterWeight routerWeight, boolean renormTopK, int nopeEvery,
                       QkNorm qkNorm, boolean tiedEmbeddings, double initStd) {
        this(vocabSize, dim, layers, heads, kvHeads, headDim, context, ropeTheta, normEps, ffnHidden, experts, topK,
                expertHidden, sharedExpertHidden, moeEvery, router, routerWeight, renormTopK, nopeEvery, qkNorm,
                tiedEmbeddings, initStd, 0, 0, 0);
    }

    /** How router logits become expert scores. */
    public enum Router {
        /** softmax over all experts (Mixtral, Qwen3-MoE). */
        @JsonProperty("softmax") SOFTMAX,
        /** independent sigmoid per expert (Llama 4, DeepSeek-V3). */
        @JsonProperty("sigmoid") SIGMOID
    }

    /** Where the top-k weight multiplies: the expert's input (Llama 4) or its output (Mixtral). */
    public enum RouterWeight {
        @JsonProperty("input") INPUT,
        @JsonProperty("output") OUTPUT
    }

    public enum QkNorm {
        /** no normalisation of queries and keys. */
        @JsonProperty("none") NONE,
        /** weightless RMS norm after RoPE, on RoPE layers only (Llama 4). */
        @JsonProperty("rms") RMS,
        /** RMS norm with a learned weight per head dimension, before RoPE, on every layer (Qwen3). */
        @JsonProperty("rms_weight") RMS_WEIGHT
    }

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);

    public boolean isMoeLayer(int layer) {
        return experts > 0 && (layer + 1) % moeEvery == 0;
    }

    public boolean usesRope(int layer) {
        return nopeEvery <= 0 || (layer + 1) % nopeEvery != 0;
    }

    /** Llama 4 normalises queries and keys only on RoPE layers; Qwen3 on all. */
    public boolean usesQkNorm(int layer) {
        return switch (qkNorm) {
            case NONE -> false;
            case RMS -> usesRope(layer);
            case RMS_WEIGHT -> true;
        };
    }

    @JsonIgnore
    public int qDim() {
        return heads * headDim;
    }

    @JsonIgnore
    public int kvDim() {
        return kvHeads * headDim;
    }

    /** Throws {@link IllegalArgumentException} naming the first field that does not fit. */
    public ModelConfig validate() {
        positive("vocab_size", vocabSize);
        positive("dim", dim);
        positive("layers", layers);
        positive("heads", heads);
        positive("kv_heads", kvHeads);
        positive("head_dim", headDim);
        positive("context", context);
        if (heads % kvHeads != 0)
            throw new IllegalArgumentException("heads (" + heads + ") must be a multiple of kv_heads (" + kvHeads + ")");
        if (headDim % 2 != 0) throw new IllegalArgumentException("head_dim (" + headDim + ") must be even for RoPE");
        if (!(ropeTheta > 0)) throw new IllegalArgumentException("rope_theta must be positive, got " + ropeTheta);
        if (!(normEps > 0)) throw new IllegalArgumentException("norm_eps must be positive, got " + normEps);
        if (!(initStd > 0)) throw new IllegalArgumentException("init_std must be positive, got " + initStd);
        if (experts < 0) throw new IllegalArgumentException("experts must be 0 (dense) or more, got " + experts);
        if (nopeEvery < 0) throw new IllegalArgumentException("nope_every must be 0 (never) or more, got " + nopeEvery);
        if (sharedExpertHidden < 0)
            throw new IllegalArgumentException("shared_expert_hidden must be 0 (none) or more, got " + sharedExpertHidden);
        if (router == null || routerWeight == null || qkNorm == null)
            throw new IllegalArgumentException("router, router_weight and qk_norm must be set");
        if (experts > 0) {
            positive("moe_every", moeEvery);
            positive("expert_hidden", expertHidden);
            if (topK < 1 || topK > experts)
                throw new IllegalArgumentException("top_k (" + topK + ") must be between 1 and experts (" + experts + ")");
        }
        if (attentionChunk < 0)
            throw new IllegalArgumentException("attention_chunk must be 0 (no chunks) or more, got " + attentionChunk);
        if (temperatureFloor < 0)
            throw new IllegalArgumentException("temperature_floor must be 0 (no temperature tuning) or more, got " + temperatureFloor);
        if (!Double.isFinite(temperatureScale))
            throw new IllegalArgumentException("temperature_scale must be a finite number, got " + temperatureScale);
        if (temperatureFloor == 0 && temperatureScale != 0)
            throw new IllegalArgumentException("temperature_scale (" + temperatureScale + ") needs temperature_floor above 0; "
                    + "set both, or temperature_scale 0 for no tuning");
        boolean anyDense = false;
        for (int i = 0; i < layers; i++) anyDense |= !isMoeLayer(i);
        if (anyDense) positive("ffn_hidden", ffnHidden);
        return this;
    }

    private static void positive(String field, int value) {
        if (value <= 0) throw new IllegalArgumentException(field + " must be positive, got " + value);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static ModelConfig fromJson(String json) throws IOException {
        JsonNode tree = JSON.readTree(json);
        if (tree instanceof ObjectNode fields)
            ADDED_LATER.forEach((name, value) -> {
                if (!fields.has(name)) fields.set(name, JSON.valueToTree(value));
            });
        return JSON.treeToValue(tree, ModelConfig.class).validate();
    }

    public static ModelConfig read(Path file) throws IOException {
        try {
            return fromJson(Files.readString(file));
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** A builder seeded from this config, for presets and command-line overrides. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    public static final class Builder {
        public int vocabSize, dim, layers, heads, kvHeads, headDim, context;
        public double ropeTheta, normEps;
        public int ffnHidden, experts, topK, expertHidden, sharedExpertHidden, moeEvery;
        public Router router;
        public RouterWeight routerWeight;
        public boolean renormTopK;
        public int nopeEvery;
        public QkNorm qkNorm;
        public boolean tiedEmbeddings;
        public double initStd;
        public int attentionChunk, temperatureFloor;
        public double temperatureScale;

        Builder(ModelConfig c) {
            vocabSize = c.vocabSize; dim = c.dim; layers = c.layers; heads = c.heads; kvHeads = c.kvHeads;
            headDim = c.headDim; context = c.context; ropeTheta = c.ropeTheta; normEps = c.normEps;
            ffnHidden = c.ffnHidden; experts = c.experts; topK = c.topK; expertHidden = c.expertHidden;
            sharedExpertHidden = c.sharedExpertHidden; moeEvery = c.moeEvery; router = c.router;
            routerWeight = c.routerWeight; renormTopK = c.renormTopK; nopeEvery = c.nopeEvery; qkNorm = c.qkNorm;
            tiedEmbeddings = c.tiedEmbeddings; initStd = c.initStd;
            attentionChunk = c.attentionChunk; temperatureFloor = c.temperatureFloor; temperatureScale = c.temperatureScale;
        }

        public ModelConfig build() {
            return new ModelConfig(vocabSize, dim, layers, heads, kvHeads, headDim, context, ropeTheta, normEps,
                    ffnHidden, experts, topK, expertHidden, sharedExpertHidden, moeEvery, router, routerWeight,
                    renormTopK, nopeEvery, qkNorm, tiedEmbeddings, initStd, attentionChunk, temperatureFloor,
                    temperatureScale).validate();
        }
    }
}
