package ai.behemoth.cli;

import ai.behemoth.data.Manifest;
import ai.behemoth.data.PrepareData;
import ai.behemoth.data.QualityRules;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code behemoth data prepare}: text files in, token shards with a manifest and a report out. */
@Command(name = "prepare", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Read .txt files, folders (recursively) and .jsonl files (a \"text\" field a line), gzipped or not; "
                + "skip what is not UTF-8 text; NFC-normalise; remove exact and near duplicates and documents that break "
                + "the Gopher quality rules; split into train and validation; tokenize into train-NNNNN.bin and "
                + "val-NNNNN.bin shards (little-endian uint16, or uint32 for vocabularies over 65536) with manifest.json "
                + "and report.json. The same inputs give byte-identical outputs.")
public final class DataPrepareCommand implements Callable<Integer> {
    private static final QualityRules GOPHER = QualityRules.GOPHER;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--in", required = true, arity = "1..*", paramLabel = "PATH", description = "Input files or folders.")
    List<Path> inputs;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output folder (written whole, or not at all).")
    Path out;

    @Option(names = "--tokenizer", paramLabel = "SPEC", defaultValue = "bytes",
            description = "bytes, or a tokenizer.json file (default: ${DEFAULT-VALUE}).")
    String tokenizer;

    @Option(names = "--force", description = "Replace an existing non-empty output folder.")
    boolean force;

    @Option(names = "--val-fraction", paramLabel = "F", defaultValue = "0.1",
            description = "Share held out for validation: documents by SHA-256, or the final share of a single document (default: ${DEFAULT-VALUE}).")
    double valFraction;

    @Option(names = "--shard-tokens", paramLabel = "N", defaultValue = "100000000", description = "Tokens per shard at most (default: ${DEFAULT-VALUE}).")
    long shardTokens;

    @Option(names = "--near-dup-threshold", paramLabel = "J", defaultValue = "0.8",
            description = "Remove a document whose MinHash Jaccard similarity (5-word shingles) to an earlier one is at least J (default: ${DEFAULT-VALUE}).")
    double nearDuplicateThreshold;

    @Option(names = "--min-words", paramLabel = "N", description = "Gopher: fewest words (default: ${DEFAULT-VALUE}).")
    int minWords = GOPHER.minWords();

    @Option(names = "--max-words", paramLabel = "N", description = "Most words; Gopher uses 100000, which removes whole books (default: ${DEFAULT-VALUE}).")
    int maxWords = GOPHER.maxWords();

    @Option(names = "--min-mean-word-length", paramLabel = "L", description = "Gopher: shortest mean word length (default: ${DEFAULT-VALUE}).")
    double minMeanWordLength = GOPHER.minMeanWordLength();

    @Option(names = "--max-mean-word-length", paramLabel = "L", description = "Gopher: longest mean word length (default: ${DEFAULT-VALUE}).")
    double maxMeanWordLength = GOPHER.maxMeanWordLength();

    @Option(names = "--max-symbol-ratio", paramLabel = "R", description = "Gopher: most '#' or ellipses per word (default: ${DEFAULT-VALUE}).")
    double maxSymbolRatio = GOPHER.maxSymbolRatio();

    @Option(names = "--max-bullet-lines", paramLabel = "F", description = "Gopher: largest share of lines starting with a bullet (default: ${DEFAULT-VALUE}).")
    double maxBulletLines = GOPHER.maxBulletLines();

    @Option(names = "--max-ellipsis-lines", paramLabel = "F", description = "Gopher: largest share of lines ending in an ellipsis (default: ${DEFAULT-VALUE}).")
    double maxEllipsisLines = GOPHER.maxEllipsisLines();

    @Option(names = "--max-dup-lines", paramLabel = "F", description = "Gopher: largest share of lines that repeat an earlier line (default: ${DEFAULT-VALUE}).")
    double maxDuplicateLines = GOPHER.maxDuplicateLines();

    @Option(names = "--max-dup-line-chars", paramLabel = "F", description = "Gopher: largest share of characters in repeated lines (default: ${DEFAULT-VALUE}).")
    double maxDuplicateLineChars = GOPHER.maxDuplicateLineChars();

    @Option(names = "--max-dup-paragraphs", paramLabel = "F", description = "Gopher: largest share of repeated paragraphs (default: ${DEFAULT-VALUE}).")
    double maxDuplicateParagraphs = GOPHER.maxDuplicateParagraphs();

    @Option(names = "--max-dup-paragraph-chars", paramLabel = "F", description = "Gopher: largest share of characters in repeated paragraphs (default: ${DEFAULT-VALUE}).")
    double maxDuplicateParagraphChars = GOPHER.maxDuplicateParagraphChars();

    @Option(names = "--max-top-ngram-chars", paramLabel = "F2,F3,F4", split = ",", hideParamSyntax = true,
            description = "Gopher: largest share of characters in the most frequent 2-, 3-, 4-gram (default: ${DEFAULT-VALUE}).")
    List<Double> topNgramChars = new ArrayList<>(GOPHER.topNgramChars());

    @Option(names = "--max-dup-ngram-chars", paramLabel = "F5,...,F10", split = ",", hideParamSyntax = true,
            description = "Gopher: largest share of word characters in repeated 5- to 10-grams (default: ${DEFAULT-VALUE}).")
    List<Double> duplicateNgramChars = new ArrayList<>(GOPHER.duplicateNgramChars());

    @Override
    public Integer call() throws Exception {
        PrepareData.Options options;
        try {
            QualityRules rules = new QualityRules(minWords, maxWords, minMeanWordLength, maxMeanWordLength, maxSymbolRatio,
                    maxBulletLines, maxEllipsisLines, maxDuplicateLines, maxDuplicateLineChars,
                    maxDuplicateParagraphs, maxDuplicateParagraphChars, topNgramChars, duplicateNgramChars);
            options = new PrepareData.Options(inputs, out, tokenizer, rules, nearDuplicateThreshold, valFraction, shardTokens, force);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        long start = System.nanoTime();
        PrepareData.Result result;
        try (Bar bar = new Bar()) {
            result = PrepareData.run(options, bar);
        }
        print(result, (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private void print(PrepareData.Result result, double seconds) {
        PrintWriter o = spec.commandLine().getOut();
        PrepareData.Report r = result.report();
        Manifest m = result.manifest();
        o.printf("read %d documents from %d files; %d files or lines skipped (not UTF-8 text)%n", r.documentsRead(), r.files(), r.skipped());
        for (var s : r.skippedSources().subList(0, Math.min(10, r.skippedSources().size())))
            o.printf("  skipped %s: %s%n", s.source(), s.reason());
        long removed = r.removed().values().stream().mapToLong(Long::longValue).sum();
        o.printf("kept %d, removed %d:%n", r.documentsKept(), removed);
        for (Map.Entry<String, Long> e : r.removed().entrySet()) o.printf("  %-26s %d%n", e.getKey(), e.getValue());
        o.printf("split by %s%n", r.splitMethod().replace('_', ' '));
        split(o, "train", m.train());
        split(o, "val", m.val());
        for (String w : r.warnings()) o.println("warning: " + w);
        o.printf("wrote %s (%s, tokenizer %s, vocabulary %d) in %.1f s%n", result.folder(), m.dtype(), m.tokenizer().spec(), m.tokenizer().vocabSize(), seconds);
        o.flush();
    }

    private static void split(PrintWriter o, String name, Manifest.Split s) {
        o.printf("  %-5s %d documents, %d tokens, %d bytes (%.3f bytes/token), %d shards%n", name, s.documents(), s.tokens(), s.bytes(),
                s.tokens() == 0 ? 0.0 : (double) s.bytes() / s.tokens(), s.shards().size());
    }

    /** A progress bar on stderr over the bytes of input read. */
    private static final class Bar implements PrepareData.Progress, AutoCloseable {
        private ProgressBar bar;

        @Override
        public void start(long totalBytes) {
            bar = new ProgressBarBuilder().setTaskName("prepare").setInitialMax(totalBytes)
                    .setUnit(" MiB", 1 << 20).showSpeed()
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
        }

        @Override
        public void at(long bytesRead) {
            bar.stepTo(bytesRead);
        }

        @Override
        public void close() {
            if (bar != null) bar.close();
        }
    }
}
