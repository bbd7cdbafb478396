package ai.behemoth.cli;

import ai.behemoth.report.RunReport;
import ai.behemoth.tokenizer.Tokenizer;
import ai.behemoth.tokenizer.Tokenizers;
import ai.behemoth.train.Balance;
import ai.behemoth.train.Checkpoint;
import ai.behemoth.train.ExpertUsage;
import ai.behemoth.train.Transformer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code behemoth inspect experts}: routes a text through a checkpoint and shows what each expert
 * eats ({@link ExpertUsage}). When the checkpoint belongs to a run folder, the figures also go to
 * {@code RUN/experts.json} and the run's report is redrawn with an experts section.
 */
@Command(name = "experts", mixinStandardHelpOptions = true,
        description = "Route a text through a checkpoint: per MoE layer and expert, the load share, router entropy, dead experts, "
                + "and the tokens (with a short context) most often sent to each expert.")
public final class InspectExpertsCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "CHECKPOINT", description = "A training checkpoint folder, or a run folder (its latest checkpoint).")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "PATH", description = "UTF-8 text to route.")
    Path data;

    @Option(names = "--max-bytes", paramLabel = "N", description = "Read at most N bytes of the text (default: 1000000).")
    int maxBytes = 1_000_000;

    @Option(names = "--top", paramLabel = "N", description = "Tokens listed per expert (default: 5).")
    int top = 5;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--json", description = "Print the figures as JSON instead of a table.")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    static final ObjectMapper JSON = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    @Override
    public Integer call() throws IOException {
        if (maxBytes < 1) throw new IllegalArgumentException("--max-bytes must be at least 1, got " + maxBytes);
        if (top < 1) throw new IllegalArgumentException("--top must be at least 1, got " + top);
        if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        if (!Files.isRegularFile(data)) throw new IOException(data + ": no such file");
        Path dir = Checkpoint.resolve(model);
        Checkpoint.Loaded loaded = Checkpoint.read(dir);
        if (loaded.config().experts() == 0) throw new IllegalArgumentException(dir + ": a dense model has no experts to inspect");
        Tokenizer tokenizer = Tokenizers.load(dir.resolve(Checkpoint.TOKENIZER).toString());
        String text;
        try (InputStream in = Files.newInputStream(data)) {
            text = new String(in.readNBytes(maxBytes), StandardCharsets.UTF_8);
        }
        int[] tokens = tokenizer.encode(text);
        if (tokens.length == 0) throw new IllegalArgumentException(data + ": no text to route");

        ai.behemoth.tensor.Parallel.setThreads(threads);
        int batch = 8;
        Transformer t = new Transformer(loaded.config(), loaded.state().options().balancing(), batch, loaded.config().context());
        System.arraycopy(loaded.params(), 0, t.params(), 0, loaded.params().length);
        float[][] bias = t.routerBias();
        for (int i = 0; i < bias.length; i++) System.arraycopy(loaded.state().routerBias()[i], 0, bias[i], 0, bias[i].length);
        ExpertUsage.Report report = ExpertUsage.measure(t, tokenizer, tokens, batch, top);

        String asJson = JSON.writeValueAsString(report);
        PrintWriter out = spec.commandLine().getOut();
        if (json) out.println(asJson);
        else print(out, report);
        out.flush();

        Path run = loaded.runDir();
        if (run != null && Files.isRegularFile(run.resolve(RunReport.METRICS))) {
            Path file = run.resolve(RunReport.EXPERTS), tmp = run.resolve("." + RunReport.EXPERTS + ".tmp");
            Files.writeString(tmp, asJson);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            spec.commandLine().getErr().printf("behemoth: wrote %s; report with an experts section: %s%n", file, RunReport.write(run));
        }
        return 0;
    }

    static void print(PrintWriter out, ExpertUsage.Report r) {
        out.printf(Locale.ROOT, "%,d tokens routed in windows of %d, top-%d%n", r.tokens(), r.context(), r.topK());
        for (ExpertUsage.Layer l : r.layers()) {
            out.printf(Locale.ROOT, "%nlayer %d: router entropy %.3f nats · MaxVio %.2f · %d dead expert%s%n",
                    l.layer(), l.entropy(), l.maxVio(), l.dead(), l.dead() == 1 ? "" : "s");
            out.printf(Locale.ROOT, "  %6s %7s %9s  %s%n", "expert", "share", "tokens", "most frequent tokens (count) · context of the first");
            for (ExpertUsage.Expert e : l.experts()) {
                StringBuilder tops = new StringBuilder();
                for (ExpertUsage.TokenCount tc : e.topTokens()) {
                    if (!tops.isEmpty()) tops.append("  ");
                    tops.append(visible(tc.text())).append(" (").append(tc.count()).append(')');
                }
                out.printf(Locale.ROOT, "  %6d %6.1f%% %,9d  %s%n", e.expert(), 100 * e.share(), e.assignments(),
                        e.dead() ? "DEAD" : tops);
                if (!e.topTokens().isEmpty())
                    out.printf(Locale.ROOT, "  %6s %7s %9s  · %s%n", "", "", "", visible(e.topTokens().getFirst().context()));
            }
        }
    }

    /** Whitespace and control characters shown, so a token of a space or a newline can be seen. */
    static String visible(String s) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            switch (c) {
                case ' ' -> b.append('·');
                case '\n' -> b.append("\\n");
                case '\t' -> b.append("\\t");
                default -> b.append(c < 32 ? String.format("\\x%02x", (int) c) : String.valueOf(c));
            }
        }
        return b.toString();
    }
}
