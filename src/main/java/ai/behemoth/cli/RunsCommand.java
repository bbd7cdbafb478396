package ai.behemoth.cli;

import ai.behemoth.report.ComputePlot;
import ai.behemoth.sweep.RunRegistry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;

/** {@code behemoth runs}: the runs registry as a table; {@code behemoth runs plot}: validation loss against compute. */
@Command(name = "runs", mixinStandardHelpOptions = true,
        description = "List the runs of ROOT/index.jsonl: config differences, final validation, tokens/s, total FLOPs, cost.",
        subcommands = RunsCommand.Plot.class)
public final class RunsCommand implements Callable<Integer> {
    @Option(names = "--root", paramLabel = "DIR", description = "Runs root holding index.jsonl (default: runs).")
    Path root = Path.of("runs");

    @Option(names = "--sort", paramLabel = "FIELD",
            description = "Sort by id, status, step, val_loss, val_bpb, tokens_per_s, flops or cost (missing values last; default: registry order).")
    String sort;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** The sortable fields and how to read them. */
    static final Map<String, Function<RunRegistry.Entry, Comparable<?>>> FIELDS = new LinkedHashMap<>();

    static {
        FIELDS.put("id", RunRegistry.Entry::id);
        FIELDS.put("status", RunRegistry.Entry::status);
        FIELDS.put("step", RunRegistry.Entry::step);
        FIELDS.put("val_loss", RunRegistry.Entry::valLoss);
        FIELDS.put("val_bpb", RunRegistry.Entry::valBpb);
        FIELDS.put("tokens_per_s", RunRegistry.Entry::tokensPerS);
        FIELDS.put("flops", RunRegistry.Entry::flops);
        FIELDS.put("cost", RunRegistry.Entry::cost);
    }

    @Override
    @SuppressWarnings({"unchecked", "rawtypes"})
    public Integer call() throws IOException {
        List<RunRegistry.Entry> runs = new ArrayList<>(entries(root));
        if (sort != null) {
            Function<RunRegistry.Entry, Comparable<?>> key = FIELDS.get(sort);
            if (key == null) throw new IllegalArgumentException("--sort " + sort + ": not one of " + String.join(", ", FIELDS.keySet()));
            runs.sort(Comparator.comparing(e -> (Comparable) key.apply(e), Comparator.nullsLast(Comparator.naturalOrder())));
        }
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "%-28s %-9s %6s %9s %8s %10s %10s %9s  %s%n", "run", "status", "step", "val loss", "val bpb",
                "tokens/s", "FLOPs", "cost", "config differences");
        for (RunRegistry.Entry e : runs)
            out.printf(Locale.ROOT, "%-28s %-9s %6s %9s %8s %10s %10s %9s  %s%n", e.id(), e.status(),
                    e.step() == null ? "-" : e.step(), num(e.valLoss(), "%.4f"), num(e.valBpb(), "%.4f"),
                    num(e.tokensPerS(), "%,.0f"), num(e.flops(), "%.3g"), num(e.cost(), "%.4g"), diff(e.diff()));
        out.flush();
        return 0;
    }

    static List<RunRegistry.Entry> entries(Path root) throws IOException {
        if (!Files.isRegularFile(root.resolve(RunRegistry.FILE)))
            throw new IOException(root.resolve(RunRegistry.FILE) + ": no runs registry here (behemoth sweep writes it)");
        return RunRegistry.read(root);
    }

    private static String num(Double v, String format) {
        return v == null ? "-" : String.format(Locale.ROOT, format, v);
    }

    private static String diff(Map<String, Object> diff) {
        if (diff == null || diff.isEmpty()) return "-";
        List<String> parts = new ArrayList<>();
        diff.forEach((k, v) -> parts.add(k + "=" + v));
        return String.join(" ", parts);
    }

    @Command(name = "plot", mixinStandardHelpOptions = true,
            description = "Draw validation loss against training FLOPs (log scale) for every run of the registry into a PNG.")
    static final class Plot implements Callable<Integer> {
        @CommandLine.ParentCommand
        RunsCommand parent;

        @Option(names = "--out", paramLabel = "FILE", description = "The PNG to write (default: ROOT/runs.png).")
        Path out;

        @Override
        public Integer call() throws IOException {
            Map<String, Path> runs = new LinkedHashMap<>();
            for (RunRegistry.Entry e : entries(parent.root))
                if (Files.isRegularFile(parent.root.resolve(e.folder()).resolve("metrics.jsonl")))
                    runs.put(e.id(), parent.root.resolve(e.folder()));
            Path png = out != null ? out : parent.root.resolve("runs.png");
            int drawn = ComputePlot.write(png, runs);
            parent.spec.commandLine().getOut().printf("wrote %s (%d runs)%n", png, drawn);
            return 0;
        }
    }
}
