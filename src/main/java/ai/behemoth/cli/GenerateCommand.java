package ai.behemoth.cli;

import ai.behemoth.generate.Generation;
import ai.behemoth.generate.LanguageModel;
import ai.behemoth.generate.Token;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code behemoth generate}: continues a prompt, streaming the text to stdout as it is produced;
 * the prompt and generation speeds go to stderr. An empty prompt is an error (there is nothing to
 * continue from).
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Continue a prompt with a model, streaming the text to stdout (speeds to stderr).")
public final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The text to continue.")
    String prompt;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        var options = sampling.toOptions(spec.commandLine());
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try (LanguageModel lm = model.load(spec.commandLine())) {
            Generation g = lm.generate(prompt, options);
            while (g.hasNext()) {
                Token t = g.next();
                out.print(t.text());
                out.flush();
            }
            out.println();
            out.flush();
            err.println(speeds(g));
            err.flush();
        }
        return 0;
    }

    /** One line: prompt and generation token counts and rates, and why it stopped. */
    static String speeds(Generation g) {
        int reused = g.promptTokens() - g.promptTokensRun();
        return String.format("prompt: %d tokens%s, %.1f tokens/s; generation: %d tokens, %.1f tokens/s; finish: %s",
                g.promptTokensRun(), reused > 0 ? " (+" + reused + " reused from the cache)" : "",
                perSecond(g.promptTokensRun(), g.promptNanos()),
                g.generatedTokens(), perSecond(g.generatedTokens(), g.generateNanos()),
                g.finishReason().toString().toLowerCase(java.util.Locale.ROOT));
    }

    static double perSecond(int tokens, long nanos) {
        return nanos == 0 ? 0 : tokens * 1e9 / nanos;
    }
}
