package ai.behemoth.generate;

import java.util.List;

/**
 * How to generate: length, sampling and stop conditions. Immutable; {@link #defaults()} then the
 * {@code with...} methods. Values are checked when the options are built, with a message naming the
 * option.
 *
 * @param maxTokens        the most tokens to generate
 * @param temperature      0 means greedy (always the most likely token)
 * @param topK             keep the k most likely tokens; 0 keeps all
 * @param topP             keep the smallest set of most likely tokens whose probability reaches p; 1 keeps all
 * @param minP             drop tokens less likely than minP × the most likely one's probability; 0 keeps all
 * @param repeatPenalty    divide positive (multiply negative) logits of recently seen tokens by this; 1 is off
 * @param presencePenalty  subtract this from the logit of every recently seen token
 * @param frequencyPenalty subtract this × the number of times a token was recently seen
 * @param penaltyWindow    how many of the latest tokens (prompt included) the penalties look at
 * @param seed             the sampler's seed: the same seed, model, prompt and options give the same text;
 *                         null draws a fresh one
 * @param stop             strings that end the generation; the text stops just before them
 */
public record GenerateOptions(int maxTokens, double temperature, int topK, double topP, double minP,
                              double repeatPenalty, double presencePenalty, double frequencyPenalty,
                              int penaltyWindow, Long seed, List<String> stop) {

    public GenerateOptions {
        if (maxTokens < 1) throw new IllegalArgumentException("max-tokens must be at least 1, got " + maxTokens);
        if (!(temperature >= 0) || Double.isInfinite(temperature))
            throw new IllegalArgumentException("temperature must be 0 or more, got " + temperature);
        if (topK < 0) throw new IllegalArgumentException("top-k must be 0 (off) or more, got " + topK);
        if (!(topP > 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in (0, 1], got " + topP);
        if (!(minP >= 0 && minP < 1)) throw new IllegalArgumentException("min-p must be in [0, 1), got " + minP);
        if (!(repeatPenalty > 0) || Double.isInfinite(repeatPenalty))
            throw new IllegalArgumentException("repeat-penalty must be positive, got " + repeatPenalty);
        if (!Double.isFinite(presencePenalty)) throw new IllegalArgumentException("presence-penalty must be finite");
        if (!Double.isFinite(frequencyPenalty)) throw new IllegalArgumentException("frequency-penalty must be finite");
        if (penaltyWindow < 0) throw new IllegalArgumentException("penalty window must be 0 or more, got " + penaltyWindow);
        stop = List.copyOf(stop);
        for (String s : stop) if (s.isEmpty()) throw new IllegalArgumentException("a stop string must not be empty");
    }

    /** 256 tokens, temperature 0.8, top-k 40, top-p 0.95, min-p 0.05, no penalties (window 64), a fresh seed, no stop strings. */
    public static GenerateOptions defaults() {
        return new GenerateOptions(256, 0.8, 40, 0.95, 0.05, 1.0, 0, 0, 64, null, List.of());
    }

    /** Always the most likely token: temperature 0, no penalties. */
    public static GenerateOptions greedy() {
        return defaults().withTemperature(0);
    }

    public GenerateOptions withMaxTokens(int v) { return new GenerateOptions(v, temperature, topK, topP, minP, repeatPenalty, presencePenalty, frequencyPenalty, penaltyWindow, seed, stop); }
    public GenerateOptions withTemperature(double v) { return new GenerateOptions(maxTokens, v, topK, topP, minP, repeatPenalty, presencePenalty, frequencyPenalty, penaltyWindow, seed, stop); }
    public GenerateOptions withTopK(int v) { return new GenerateOptions(maxTokens, temperature, v, topP, minP, repeatPenalty, presencePenalty, frequencyPenalty, penaltyWindow, seed, stop); }
    public GenerateOptions withTopP(double v) { return new GenerateOptions(maxTokens, temperature, topK, v, minP, repeatPenalty, presencePenalty, frequencyPenalty, penaltyWindow, seed, stop); }
    public GenerateOptions withMinP(double v) { return new GenerateOptions(maxTokens, temperature, topK, topP, v, repeatPenalty, presencePenalty, frequencyPenalty, penaltyWindow, seed, stop); }
    public GenerateOptions withRepeatPenalty(double v) { return new GenerateOptions(maxTokens, temperature, topK, topP, minP, v, presencePenalty, frequencyPenalty, penaltyWindow, seed, stop); }
    public GenerateOptions withPresencePenalty(double v) { return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, v, frequencyPenalty, penaltyWindow, seed, stop); }
    public GenerateOptions withFrequencyPenalty(double v) { return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, presencePenalty, v, penaltyWindow, seed, stop); }
    public GenerateOptions withPenaltyWindow(int v) { return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, presencePenalty, frequencyPenalty, v, seed, stop); }
    public GenerateOptions withSeed(Long v) { return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, presencePenalty, frequencyPenalty, penaltyWindow, v, stop); }
    public GenerateOptions withStop(List<String> v) { return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, presencePenalty, frequencyPenalty, penaltyWindow, seed, v); }
}
