package ai.behemoth.generate;

import ai.behemoth.model.CheckpointWeights;
import ai.behemoth.model.GgufWeights;
import ai.behemoth.model.InferenceModel;
import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.ModelWeights;
import ai.behemoth.model.Sequence;
import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tokenizer.Tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

/**
 * Behemoth's public entry point for applications: load a model, generate text as a stream of
 * tokens, hold a chat. One model can serve several generations and chat sessions (their forward
 * passes take turns). Close it to release the mapped weights.
 *
 * <pre>{@code
 * try (LanguageModel model = LanguageModel.load(Path.of("runs/tiny/final"))) {
 *     model.generate("To be, or not", GenerateOptions.defaults().withSeed(42L))
 *          .forEachRemaining(token -> System.out.print(token.text()));
 *     ChatSession chat = model.chat(null);
 *     System.out.println(chat.send("Who are you?", GenerateOptions.greedy()).text());
 * }
 * }</pre>
 */
public final class LanguageModel implements AutoCloseable {
    private final InferenceModel engine;
    private final ChatTemplate template;
    private final Set<Integer> endTokens = new HashSet<>();

    private LanguageModel(InferenceModel engine, String template) {
        this.engine = engine;
        this.template = new ChatTemplate(template != null ? template : ChatTemplate.BUILT_IN);
        Tokenizer tok = engine.tokenizer();
        tok.specialToken(ChatTemplate.EOS).ifPresent(endTokens::add);
        tok.specialToken(ChatTemplate.END_OF_TURN).ifPresent(endTokens::add);
    }

    /** Loads a checkpoint folder or a GGUF file with its weights as stored (memory-mapped). */
    public static LanguageModel load(Path checkpoint) throws IOException {
        return load(checkpoint, null);
    }

    /**
     * Loads a checkpoint folder, or a GGUF file (any regular file); {@code quantize} (F16, BF16, Q8_0, Q4_0, or null to keep the stored
     * type) converts every matrix once, on load.
     */
    public static LanguageModel load(Path checkpoint, GgmlType quantize) throws IOException {
        return load(checkpoint, quantize, false);
    }

    /**
     * As {@link #load(Path, GgmlType)}; with {@code q8Activations}, products of Q4_0 matrices (and of
     * Q8_0 and K-quant matrices over few input rows, as in generation) take their input quantised to 8
     * bits, as llama.cpp does ({@link ModelWeights#withQ8Activations}): faster, and rounded as llama.cpp
     * rounds rather than exact in float32.
     */
    public static LanguageModel load(Path checkpoint, GgmlType quantize, boolean q8Activations) throws IOException {
        ModelWeights weights = Files.isRegularFile(checkpoint) ? GgufWeights.load(checkpoint, quantize) : CheckpointWeights.load(checkpoint, quantize);
        return of(q8Activations ? weights.withQ8Activations() : weights);
    }

    /** A model over weights from any source (a checkpoint, a GGUF file). */
    public static LanguageModel of(ModelWeights weights) {
        return new LanguageModel(new InferenceModel(weights, InferenceModel.DEFAULT_CHUNK), weights.chatTemplate());
    }

    /** Continues {@code prompt} (encoded as plain text, no special tokens). */
    public Generation generate(String prompt, GenerateOptions options) {
        return generate(engine.tokenizer().encode(prompt), options);
    }

    /** Continues a prompt given as token ids. */
    public Generation generate(int[] prompt, GenerateOptions options) {
        return start(engine.newSequence(), prompt, 0, options);
    }

    /** A new conversation; {@code systemPrompt} may be null. */
    public ChatSession chat(String systemPrompt) {
        return new ChatSession(this, systemPrompt);
    }

    Generation start(Sequence sequence, int[] prompt, int cached, GenerateOptions options) {
        return new Generation(engine, sequence, prompt, cached, options, endTokens);
    }

    public ModelConfig config() { return engine.config(); }

    public Tokenizer tokenizer() { return engine.tokenizer(); }

    public ChatTemplate chatTemplate() { return template; }

    /** The engine underneath, for batching several sequences by hand. */
    public InferenceModel engine() { return engine; }

    @Override
    public void close() {
        engine.close();
    }
}
