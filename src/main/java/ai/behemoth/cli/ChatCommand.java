package ai.behemoth.cli;

import ai.behemoth.generate.ChatSession;
import ai.behemoth.generate.GenerateOptions;
import ai.behemoth.generate.Generation;
import ai.behemoth.generate.LanguageModel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import sun.misc.Signal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;

/**
 * {@code behemoth chat}: an interactive conversation through the model's chat template. Each line
 * read is a user turn; {@code /reset} forgets the conversation, {@code /quit} (or end of input)
 * leaves. Ctrl-C while an answer streams stops that answer (it stays in the history as far as it
 * got); at the prompt it only reminds how to leave. Ctrl-C is caught with {@code sun.misc.Signal}
 * (module jdk.unsupported, still present in Java 25), the one JDK API for it.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
        description = "Chat with a model in the terminal (/reset, /quit; Ctrl-C stops an answer).")
public final class ChatCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Mixin
    SamplingOptions sampling;

    @Option(names = "--system", paramLabel = "TEXT", description = "A system prompt for the conversation.")
    String system;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private volatile Generation answering;

    @Override
    public Integer call() throws IOException {
        GenerateOptions options = sampling.toOptions(spec.commandLine());
        PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
        try (LanguageModel lm = model.load(spec.commandLine())) {
            installInterruptHandler(out, err);
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            converse(lm.chat(system), options, in, out, err);
        }
        return 0;
    }

    /** The read–answer loop, until /quit or the end of input. */
    void converse(ChatSession chat, GenerateOptions options, BufferedReader in, PrintWriter out, PrintWriter err) throws IOException {
        err.println("Chat: type a message; /reset forgets the conversation, /quit leaves, Ctrl-C stops an answer.");
        while (true) {
            out.print("> ");
            out.flush();
            String line = in.readLine();
            if (line == null || line.strip().equals("/quit")) break;
            if (line.strip().equals("/reset")) {
                chat.reset();
                err.println("(conversation forgotten)");
                continue;
            }
            if (line.isBlank()) continue;
            Generation g;
            try {
                g = chat.send(line, options);
            } catch (IllegalArgumentException e) {
                err.println("behemoth: error: " + e.getMessage());
                continue;
            }
            answering = g;
            while (g.hasNext()) {
                out.print(g.next().text());
                out.flush();
            }
            answering = null;
            out.println();
            if (g.finishReason() == ai.behemoth.generate.FinishReason.CANCELLED) err.println("(answer stopped)");
            err.println(GenerateCommand.speeds(g));
            err.flush();
        }
        out.println();
        out.flush();
    }

    private void installInterruptHandler(PrintWriter out, PrintWriter err) {
        Signal.handle(new Signal("INT"), signal -> {
            Generation g = answering;
            if (g != null) {
                g.cancel();
            } else {
                err.println();
                err.println("(Ctrl-C stops an answer; /quit or Ctrl-D leaves)");
                err.flush();
                out.print("> ");
                out.flush();
            }
        });
    }
}
