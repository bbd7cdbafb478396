package ai.behemoth.cli;

import ai.behemoth.eval.Bootstrap;
import ai.behemoth.eval.CardComparison;
import ai.behemoth.eval.CardSignature;
import ai.behemoth.eval.CardVerifier;
import ai.behemoth.eval.EvalCard;
import ai.behemoth.eval.EvalData;
import ai.behemoth.eval.Evaluations;
import ai.behemoth.eval.ItemScores;
import ai.behemoth.eval.ModelSource;
import ai.behemoth.eval.NextLineTasks;
import ai.behemoth.eval.StabilityProbe;
import ai.behemoth.generate.GenerateOptions;
import ai.behemoth.generate.LanguageModel;
import ai.behemoth.tensor.Parallel;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code behemoth eval}: scores bound to the exact bytes evaluated. Each scoring subcommand prints
 * its scores with 95% bootstrap intervals and writes an eval card (see {@link EvalCard});
 * {@code verify} checks a card against a model, {@code compare} sets cards side by side.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate a model (perplexity, multiple choice, stability) into a verifiable eval card.",
        subcommands = {EvalCommand.PerplexityCommand.class, EvalCommand.ChoiceCommand.class, EvalCommand.StabilityCommand.class,
                EvalCommand.VerifyCommand.class, EvalCommand.CompareCommand.class, EvalCommand.MakeTasksCommand.class,
                EvalCommand.KeygenCommand.class})
public final class EvalCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** The options every scoring subcommand shares: model, card, signing, bootstrap. */
    static final class CardOptions {
        @Option(names = "--model", required = true, paramLabel = "PATH", description = "Checkpoint folder (or a .gguf file).")
        Path model;

        @Option(names = "--card", paramLabel = "FILE", description = "Where to write the eval card (default: eval/<kind>-<data>.card.json beside the model).")
        Path card;

        @Option(names = "--sign", paramLabel = "KEY", description = "Sign the card with this Ed25519 private key (PKCS#8 PEM or raw 32 bytes; make one with eval keygen).")
        Path sign;

        @Option(names = "--log-samples", description = "Store the per-item log (chunk scores, choice log-likelihoods, generated texts) in the card.")
        boolean logSamples;

        @Option(names = "--bootstrap-seed", paramLabel = "N", description = "Seed of the bootstrap resampling (default ${DEFAULT-VALUE}).")
        long bootstrapSeed = Bootstrap.SEED;

        @Option(names = "--resamples", paramLabel = "N", description = "Bootstrap resamples (default ${DEFAULT-VALUE}).")
        int resamples = Bootstrap.RESAMPLES;

        @Option(names = "--threads", paramLabel = "N", description = "Threads for the matrix products (default: all cores).")
        Integer threads;

        /** Runs the evaluation, prints the scores, writes (and signs) the card; returns the card. */
        ObjectNode evaluate(CommandLine cli, String kind, String dataName, ObjectNode settings) throws IOException {
            if (resamples < 100) throw new CommandLine.ParameterException(cli, "--resamples must be at least 100, not " + resamples);
            if (threads != null) {
                if (threads < 1) throw new CommandLine.ParameterException(cli, "--threads must be at least 1, not " + threads);
                Parallel.setThreads(threads);
            }
            var key = sign == null ? null : CardSignature.readPrivate(sign); // a bad key fails before the work
            Evaluations.dataBytes(kind, dataName);                            // and so do bad data
            PrintWriter out = cli.getOut();
            try (LanguageModel lm = ModelSource.load(model); Bar bar = new Bar()) {
                Evaluations.Result r = Evaluations.run(kind, lm, dataName, settings, logSamples, bar);
                bar.close();
                var inputs = new EvalCard.Inputs(kind, commandLine(cli), model, lm.config().toJson(), dataName,
                        Evaluations.dataBytes(kind, dataName), settings);
                ObjectNode card = EvalCard.create(inputs, r.scores(), resamples, bootstrapSeed, r.samples());
                out.printf("%s of %s on %s (%d %ss):%n", kind, model, dataName, r.scores().items(), r.scores().unit());
                for (ItemScores.Metric m : r.scores().metrics()) {
                    var s = card.path("scores").path(m.name());
                    out.printf(Locale.ROOT, "  %-15s %.4f  95%% CI [%.4f, %.4f]%n", m.name(), s.path("value").asDouble(),
                            s.path("ci95").path(0).asDouble(), s.path("ci95").path(1).asDouble());
                }
                if (r.stability() != null) card.set("prompts", stabilityReport(out, r.stability()));
                if (key != null) CardSignature.sign(card, key);
                Path file = this.card != null ? this.card : defaultCard(kind, dataName);
                EvalCard.write(card, file);
                out.println("eval card: " + file + (key != null ? " (signed)" : ""));
                out.flush();
                return card;
            }
        }

        private Path defaultCard(String kind, String dataName) {
            Path abs = model.toAbsolutePath().normalize();
            Path dir = (abs.getParent() == null ? abs : abs.getParent()).resolve("eval");
            String data = Path.of(dataName).getFileName().toString().replaceAll("[^A-Za-z0-9._-]", "_");
            return dir.resolve(kind + "-" + data + ".card.json");
        }
    }

    /** The command as typed, to store in the card. */
    static String commandLine(CommandLine cli) {
        List<String> args = cli.getCommandSpec().root().commandLine().getParseResult().originalArgs();
        return "behemoth " + args.stream().map(a -> a.matches("[A-Za-z0-9_./:=@%+,-]+") ? a : "'" + a.replace("'", "'\\''") + "'")
                .collect(Collectors.joining(" "));
    }

    /** Per prompt spreads, most swinging first; also returned for the card. */
    static ArrayNode stabilityReport(PrintWriter out, StabilityProbe.Result r) {
        ArrayNode prompts = JsonNodeFactory.instance.arrayNode();
        out.println("  prompts by swing, ln(p90/p10) of sample perplexity (perplexity p10/p50/p90 · distinct-2 p50 · repeat-4 p50):");
        for (StabilityProbe.PromptSummary p : r.prompts()) {
            out.printf(Locale.ROOT, "  %6.3f  %8.2f %8.2f %8.2f · %.3f · %.3f  %s%n", p.swing(), p.perplexity().p10(), p.perplexity().p50(),
                    p.perplexity().p90(), p.distinct2().p50(), p.repeat4().p50(), p.text().length() > 40 ? p.text().substring(0, 40) + "…" : p.text());
            ObjectNode o = prompts.addObject();
            o.put("prompt", p.text());
            o.put("swing", p.swing());
            spread(o.putObject("perplexity"), p.perplexity());
            spread(o.putObject("distinct_1"), p.distinct1());
            spread(o.putObject("distinct_2"), p.distinct2());
            spread(o.putObject("repeat_4"), p.repeat4());
        }
        return prompts;
    }

    private static void spread(ObjectNode o, StabilityProbe.Spread s) {
        o.put("p10", s.p10());
        o.put("p50", s.p50());
        o.put("p90", s.p90());
    }

    @Command(name = "perplexity", mixinStandardHelpOptions = true,
            description = {"Nats per token and bits per byte over a text, rolling windows, bootstrap 95%% CI over chunks.",
                    "Windows of --ctx tokens start every --stride tokens; each scores only tokens no earlier window scored, "
                            + "so each token is scored once with at least ctx - stride tokens of left context (the first token is not scored)."})
    static final class PerplexityCommand implements Callable<Integer> {
        @Mixin CardOptions card;
        @Option(names = "--data", required = true, paramLabel = "PATH", description = "UTF-8 text file, or 'shakespeare' (the held-out 10%% of the bundled corpus).")
        String data;
        @Option(names = "--ctx", paramLabel = "N", description = "Window length in tokens (default: the model's context).")
        Integer ctx;
        @Option(names = "--stride", paramLabel = "N", description = "Tokens between window starts (default: half the window).")
        Integer stride;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            ObjectNode settings = JsonNodeFactory.instance.objectNode(); // defaults are filled in from the model
            if (ctx != null) settings.put("window", ctx);
            if (stride != null) settings.put("stride", stride);
            card.evaluate(spec.commandLine(), Evaluations.PERPLEXITY, data, settings);
            return 0;
        }
    }

    @Command(name = "choice", mixinStandardHelpOptions = true,
            description = {"Multiple choice by log-likelihood: acc and acc_norm as lm-evaluation-harness defines them.",
                    "Task file: JSON Lines {\"context\", \"choices\", \"label\"}; 'shakespeare' is the built-in next-line task."})
    static final class ChoiceCommand implements Callable<Integer> {
        @Mixin CardOptions card;
        @Option(names = "--tasks", required = true, paramLabel = "FILE.jsonl", description = "Task file, or 'shakespeare'.")
        String tasks;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            card.evaluate(spec.commandLine(), Evaluations.CHOICE, tasks, JsonNodeFactory.instance.objectNode());
            return 0;
        }
    }

    @Command(name = "stability", mixinStandardHelpOptions = true,
            description = "Several samples per prompt: each sample's perplexity, distinct-n and repeated 4-grams; per prompt the spread.")
    static final class StabilityCommand implements Callable<Integer> {
        @Mixin CardOptions card;
        @Option(names = "--prompts", required = true, paramLabel = "FILE", description = "Prompts, one a line (# lines skipped).")
        Path prompts;
        @Option(names = "--seeds", paramLabel = "N", description = "Samples per prompt, seeds first-seed.. (default ${DEFAULT-VALUE}).")
        int seeds = 8;
        @Option(names = "--first-seed", paramLabel = "N", description = "Seed of the first sample (default ${DEFAULT-VALUE}).")
        long firstSeed = 1;
        @Option(names = "--temperature", paramLabel = "X", description = "Sampling temperature (default ${DEFAULT-VALUE}).")
        double temperature = 0.8;
        @Option(names = "--max-tokens", paramLabel = "N", description = "Tokens per sample (default ${DEFAULT-VALUE}).")
        int maxTokens = 64;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            GenerateOptions d = GenerateOptions.defaults().withTemperature(temperature).withMaxTokens(maxTokens); // checks the values
            ObjectNode settings = JsonNodeFactory.instance.objectNode();
            settings.put("seeds", seeds);
            settings.put("first_seed", firstSeed);
            settings.put("temperature", d.temperature());
            settings.put("max_tokens", d.maxTokens());
            settings.put("top_k", d.topK());
            settings.put("top_p", d.topP());
            settings.put("min_p", d.minP());
            card.evaluate(spec.commandLine(), Evaluations.STABILITY, prompts.toString(), settings);
            return 0;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = "Check an eval card against a model: signature, SHA-256 of every model file and of the data; --rerun recomputes the scores.")
    static final class VerifyCommand implements Callable<Integer> {
        @Parameters(paramLabel = "CARD") Path cardFile;
        @Option(names = "--model", required = true, paramLabel = "PATH", description = "The checkpoint folder (or .gguf) the card claims.")
        Path model;
        @Option(names = "--data", paramLabel = "PATH", description = "Evaluation data, when not at the path the card names.")
        String data;
        @Option(names = "--pubkey", paramLabel = "FILE", description = "The Ed25519 public key the card must be signed with (X.509 PEM or raw).")
        Path pubkey;
        @Option(names = "--rerun", description = "Recompute the scores and check they lie in the card's 95%% intervals.")
        boolean rerun;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            ObjectNode card = EvalCard.read(cardFile);
            var key = pubkey == null ? null : CardSignature.readPublic(pubkey);
            try (Bar bar = new Bar()) {
                CardVerifier.Report report = CardVerifier.verify(card, cardFile.toString(), model, data, key, rerun, bar);
                bar.close();
                PrintWriter out = spec.commandLine().getOut(), err = spec.commandLine().getErr();
                report.passed().forEach(p -> out.println("ok    " + p));
                out.flush();
                for (String p : report.problems()) err.println("behemoth: error: " + p);
                err.flush();
                if (!report.ok()) return 1;
                out.println("verified: " + cardFile + " describes " + model);
                out.flush();
                return 0;
            }
        }
    }

    @Command(name = "compare", mixinStandardHelpOptions = true,
            description = "Compare eval cards against the first: a table with bootstrap significance for each difference, and a plot (HTML + PNG).")
    static final class CompareCommand implements Callable<Integer> {
        @Parameters(paramLabel = "CARD", arity = "2..*") List<Path> cards;
        @Option(names = "--out", paramLabel = "DIR", description = "Where to write compare.html and compare-<metric>.png (default: the current folder).")
        Path out = Path.of(".");
        @Option(names = "--bootstrap-seed", paramLabel = "N", description = "Seed of the bootstrap (default ${DEFAULT-VALUE}).")
        long seed = Bootstrap.SEED;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            List<CardComparison.Card> loaded = new ArrayList<>();
            for (Path p : cards) {
                ObjectNode json = EvalCard.read(p);
                loaded.add(new CardComparison.Card(p.toString(), json, EvalCard.items(json, p.toString())));
            }
            List<CardComparison.Row> rows = CardComparison.compare(loaded, Bootstrap.RESAMPLES, seed);
            PrintWriter o = spec.commandLine().getOut();
            o.print(CardComparison.table(rows));
            List<byte[]> pngs = CardComparison.plots(rows, loaded);
            Files.createDirectories(out);
            List<String> metrics = rows.stream().map(CardComparison.Row::metric).distinct().toList();
            for (int i = 0; i < pngs.size(); i++) writeAtomically(out.resolve("compare-" + metrics.get(i) + ".png"), pngs.get(i));
            Path html = out.resolve("compare.html");
            writeAtomically(html, CardComparison.html(rows, loaded, pngs).getBytes(StandardCharsets.UTF_8));
            o.println("plot: " + html);
            o.flush();
            return 0;
        }
    }

    @Command(name = "make-tasks", mixinStandardHelpOptions = true,
            description = "Build the next-line multiple-choice task file from the held-out Shakespeare split (or a text file).")
    static final class MakeTasksCommand implements Callable<Integer> {
        @Option(names = "--out", required = true, paramLabel = "FILE.jsonl") Path out;
        @Option(names = "--text", paramLabel = "PATH", description = "Source text (default: 'shakespeare', the held-out split).")
        String text = EvalData.SHAKESPEARE;
        @Option(names = "--count", paramLabel = "N", description = "Questions (default ${DEFAULT-VALUE}).")
        int count = NextLineTasks.COUNT;
        @Option(names = "--seed", paramLabel = "N", description = "Seed (default ${DEFAULT-VALUE}).")
        long seed = NextLineTasks.SEED;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            var tasks = NextLineTasks.build(EvalData.load(text).text(), count, seed);
            writeAtomically(out, NextLineTasks.toJsonLines(tasks).getBytes(StandardCharsets.UTF_8));
            spec.commandLine().getOut().println("wrote " + tasks.size() + " tasks to " + out);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "keygen", mixinStandardHelpOptions = true, description = "Make an Ed25519 key pair for signing eval cards.")
    static final class KeygenCommand implements Callable<Integer> {
        @Option(names = "--out", required = true, paramLabel = "DIR") Path out;
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            Path[] files = CardSignature.generate(out);
            spec.commandLine().getOut().println("private key: " + files[0] + " (keep it secret)\npublic key:  " + files[1]);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    static void writeAtomically(Path target, byte[] bytes) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, target.getFileName().toString(), ".tmp");
        try {
            Files.write(tmp, bytes);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** A progress bar on stderr. */
    static final class Bar implements Evaluations.Progress, AutoCloseable {
        private ProgressBar bar;

        @Override
        public void begin(String task, long total) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).showSpeed()
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
        }

        @Override
        public void update(long done) {
            if (bar != null) bar.stepTo(done);
        }

        @Override
        public void end() {
            close();
        }

        @Override
        public void close() {
            if (bar != null) bar.close();
            bar = null;
        }
    }
}
