package ai.behemoth.cli;

import ai.behemoth.generate.GenerateOptions;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/** The sampling and stopping options of {@code generate} and {@code chat}; defaults as {@link GenerateOptions#defaults()}. */
final class SamplingOptions {
    private static final GenerateOptions D = GenerateOptions.defaults();

    @Option(names = "--max-tokens", paramLabel = "N", description = "Most tokens to generate (default 256).")
    int maxTokens = D.maxTokens();

    @Option(names = "--temperature", paramLabel = "X", description = "0 is greedy (default 0.8).")
    double temperature = D.temperature();

    @Option(names = "--top-k", paramLabel = "N", description = "Keep the N most likely tokens; 0 keeps all (default 40).")
    int topK = D.topK();

    @Option(names = "--top-p", paramLabel = "X", description = "Nucleus: keep the most likely tokens up to probability X (default 0.95).")
    double topP = D.topP();

    @Option(names = "--min-p", paramLabel = "X", description = "Drop tokens under X times the top probability (default 0.05).")
    double minP = D.minP();

    @Option(names = "--repeat-penalty", paramLabel = "X", description = "Penalise the last 64 tokens' logits by X; 1 is off (default 1).")
    double repeatPenalty = D.repeatPenalty();

    @Option(names = "--presence-penalty", paramLabel = "X", description = "Subtract X from seen tokens' logits (default 0).")
    double presencePenalty = D.presencePenalty();

    @Option(names = "--frequency-penalty", paramLabel = "X", description = "Subtract X per occurrence from seen tokens' logits (default 0).")
    double frequencyPenalty = D.frequencyPenalty();

    @Option(names = "--seed", paramLabel = "N", description = "Sampler seed: the same seed gives the same text (default: random).")
    Long seed;

    @Option(names = "--stop", paramLabel = "S", description = "Stop before this string (repeatable).")
    List<String> stop = new ArrayList<>();

    GenerateOptions toOptions(CommandLine cli) {
        try {
            return new GenerateOptions(maxTokens, temperature, topK, topP, minP, repeatPenalty, presencePenalty,
                    frequencyPenalty, D.penaltyWindow(), seed, stop);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cli, "--" + e.getMessage());
        }
    }
}
