package ai.behemoth.cli;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.Presets;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The model-shape flags shared by {@code behemoth train} and {@code behemoth bench train}: a preset
 * or a config.json, then per-field overrides. Unset flags are null, so that a resumed run can tell
 * which ones the user actually gave.
 */
final class ModelFlags {
    @Option(names = "--config", paramLabel = "FILE.json", description = "Model config (config.json format); exclusive with --preset.")
    Path config;

    @Option(names = "--preset", paramLabel = "NAME", description = "Model preset: tiny (default), mixtral, qwen3moe, llama4, qwen3, dense.")
    String preset;

    @Option(names = "--ctx", paramLabel = "N", description = "Context length (tokens per training sequence).")
    Integer ctx;

    @Option(names = "--layers", paramLabel = "N", description = "Transformer layers.")
    Integer layers;

    @Option(names = "--dim", paramLabel = "N", description = "Model width; head_dim becomes dim/heads.")
    Integer dim;

    @Option(names = "--heads", paramLabel = "N", description = "Attention heads; head_dim becomes dim/heads.")
    Integer heads;

    @Option(names = "--kv-heads", paramLabel = "N", description = "Key/value heads (grouped-query attention); follows --heads when the preset has as many as heads.")
    Integer kvHeads;

    @Option(names = "--experts", paramLabel = "N", description = "Routed experts per MoE layer (0: a dense model).")
    Integer experts;

    @Option(names = "--top-k", paramLabel = "N", description = "Experts each token is routed to.")
    Integer topK;

    @Option(names = "--expert-hidden", paramLabel = "N", description = "Hidden width of each routed expert.")
    Integer expertHidden;

    @Option(names = "--shared-expert-hidden", paramLabel = "N", description = "Hidden width of the shared expert (0: none).")
    Integer sharedExpertHidden;

    @Option(names = "--moe-every", paramLabel = "N", description = "MoE on layer i when (i+1) %% N == 0, dense SwiGLU elsewhere.")
    Integer moeEvery;

    @Option(names = "--router", paramLabel = "softmax|sigmoid", converter = RouterConverter.class,
            description = "Router score function.")
    ModelConfig.Router router;

    /** The config these flags describe for a tokenizer of {@code vocabSize} tokens, checked. */
    ModelConfig resolve(int vocabSize) throws IOException {
        if (config != null && preset != null) throw new IllegalArgumentException("--config and --preset exclude each other");
        ModelConfig base;
        if (config != null) {
            base = ModelConfig.read(config);
            if (base.vocabSize() != vocabSize)
                throw new IllegalArgumentException(config + ": vocab_size is " + base.vocabSize() + " but the tokenizer has "
                        + vocabSize + " tokens");
        } else {
            base = Presets.get(preset == null ? "tiny" : preset, vocabSize);
        }
        ModelConfig.Builder b = base.toBuilder();
        if (ctx != null) b.context = ctx;
        if (layers != null) b.layers = layers;
        if (dim != null) b.dim = dim;
        if (heads != null) b.heads = heads;
        if (dim != null || heads != null) {
            if (b.dim < 1 || b.heads < 1) throw new IllegalArgumentException("--dim and --heads must be positive");
            if (b.dim % b.heads != 0)
                throw new IllegalArgumentException("--dim " + b.dim + " is not divisible by --heads " + b.heads);
            b.headDim = b.dim / b.heads;
        }
        if (kvHeads != null) b.kvHeads = kvHeads;
        else if (heads != null && base.kvHeads() == base.heads()) b.kvHeads = heads; // a multi-head preset stays multi-head
        if (b.kvHeads > 0 && b.heads % b.kvHeads != 0)
            throw new IllegalArgumentException("--heads " + b.heads + " is not divisible by --kv-heads " + b.kvHeads);
        if (experts != null) b.experts = experts;
        if (topK != null) b.topK = topK;
        if (b.experts == 0) b.topK = 0;
        if (b.experts > 0 && b.topK > b.experts)
            throw new IllegalArgumentException("--top-k " + b.topK + " is above --experts " + b.experts);
        if (expertHidden != null) b.expertHidden = expertHidden;
        if (sharedExpertHidden != null) b.sharedExpertHidden = sharedExpertHidden;
        if (moeEvery != null) b.moeEvery = moeEvery;
        if (router != null) b.router = router;
        return b.build();
    }

    /** The flags that were given, by the config field they set, with their values. */
    Map<String, Object> given() {
        Map<String, Object> g = new LinkedHashMap<>();
        if (ctx != null) g.put("context", ctx);
        if (layers != null) g.put("layers", layers);
        if (dim != null) g.put("dim", dim);
        if (heads != null) g.put("heads", heads);
        if (kvHeads != null) g.put("kv_heads", kvHeads);
        if (experts != null) g.put("experts", experts);
        if (topK != null) g.put("top_k", topK);
        if (expertHidden != null) g.put("expert_hidden", expertHidden);
        if (sharedExpertHidden != null) g.put("shared_expert_hidden", sharedExpertHidden);
        if (moeEvery != null) g.put("moe_every", moeEvery);
        if (router != null) g.put("router", router);
        return g;
    }

    /** Throws naming {@code file} and the field when a given flag disagrees with an existing config. */
    void requireMatch(ModelConfig existing, Path file) {
        if (config != null || preset != null)
            throw new IllegalArgumentException("--config and --preset cannot be combined with --resume: the model is " + file);
        Map<String, Object> have = new LinkedHashMap<>();
        have.put("context", existing.context());
        have.put("layers", existing.layers());
        have.put("dim", existing.dim());
        have.put("heads", existing.heads());
        have.put("kv_heads", existing.kvHeads());
        have.put("experts", existing.experts());
        have.put("top_k", existing.topK());
        have.put("expert_hidden", existing.expertHidden());
        have.put("shared_expert_hidden", existing.sharedExpertHidden());
        have.put("moe_every", existing.moeEvery());
        have.put("router", existing.router());
        for (var e : given().entrySet()) {
            if (!have.get(e.getKey()).equals(e.getValue()))
                throw new IllegalArgumentException(file + ": " + e.getKey() + " is " + have.get(e.getKey()) + " but --"
                        + flagName(e.getKey()) + " says " + e.getValue());
        }
    }

    private static String flagName(String field) {
        return field.equals("context") ? "ctx" : field.replace('_', '-');
    }

    static final class RouterConverter implements ITypeConverter<ModelConfig.Router> {
        @Override
        public ModelConfig.Router convert(String value) {
            return switch (value) {
                case "softmax" -> ModelConfig.Router.SOFTMAX;
                case "sigmoid" -> ModelConfig.Router.SIGMOID;
                default -> throw new TypeConversionException("'" + value + "' is not a router (softmax or sigmoid)");
            };
        }
    }
}
