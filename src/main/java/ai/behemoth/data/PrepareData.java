package ai.behemoth.data;

import ai.behemoth.tokenizer.Tokenizer;
import ai.behemoth.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * {@code behemoth data prepare}: reads documents, removes exact duplicates, documents that break
 * the quality rules and near duplicates (in that order, first occurrence kept), splits the rest
 * into train and validation, tokenizes, and writes token shards with {@code manifest.json} and
 * {@code report.json}. The output folder appears complete or not at all.
 *
 * <p>Split: with several documents, each goes to validation when its SHA-256 (as a fraction of
 * 2^64) falls below {@code valFraction}, so a document keeps its side whatever else is in the
 * corpus. A corpus of a single document (tiny Shakespeare) is cut instead: its final
 * {@code valFraction} of characters validates, as nanoGPT does. To decide which case holds without
 * reading everything twice, the first kept document is held back until a second one appears.
 */
public final class PrepareData {
    public static final String REPORT = "report.json";
    public static final String END_OF_TEXT = "<|end_of_text|>";
    /** How many skipped files or lines report.json lists by name (all are counted). */
    static final int SKIPPED_LISTED = 1000;

    public record Options(List<Path> inputs, Path out, String tokenizerSpec, QualityRules rules,
                          double nearDuplicateThreshold, double valFraction, long shardTokens, boolean force) {
        public Options {
            if (inputs.isEmpty()) throw new IllegalArgumentException("no inputs given");
            if (!(nearDuplicateThreshold > 0 && nearDuplicateThreshold <= 1))
                throw new IllegalArgumentException("near-duplicate threshold " + nearDuplicateThreshold + " is not in (0, 1]");
            if (!(valFraction >= 0 && valFraction < 1)) throw new IllegalArgumentException("validation fraction " + valFraction + " is not in [0, 1)");
            if (shardTokens < 1) throw new IllegalArgumentException("shard size " + shardTokens + " tokens is not positive");
            inputs = List.copyOf(inputs);
        }
    }

    /** Receives how far the reading has got, in bytes of input files. */
    public interface Progress {
        void start(long totalBytes);

        void at(long bytesRead);
    }

    public record Settings(QualityRules qualityRules, double nearDuplicateThreshold, double valFraction, long shardTokens) {}

    /** {@code report.json}: what was read, what each rule removed, what could not be read. */
    public record Report(long files, long documentsRead, long documentsKept, Map<String, Long> removed,
                         long skipped, List<DocumentReader.Skipped> skippedSources, String splitMethod,
                         List<String> warnings, Settings settings) {}

    public record Result(Path folder, Manifest manifest, Report report) {}

    public static Result run(Options options, Progress progress) throws IOException {
        return run(options, Tokenizers.load(options.tokenizerSpec()), progress);
    }

    /** As {@link #run(Options, Progress)}, with the tokenizer the spec names already loaded. */
    static Result run(Options options, Tokenizer tokenizer, Progress progress) throws IOException {
        List<Path> files = CorpusFiles.list(options.inputs());
        Manifest.TokenizerInfo tokenizerInfo = new Manifest.TokenizerInfo(options.tokenizerSpec(),
                TokenizerIdentity.specSha256(options.tokenizerSpec()), TokenizerIdentity.vocabSha256(tokenizer),
                tokenizer.vocabSize(), boxed(tokenizer.specialToken(END_OF_TEXT)));
        StagingFolder staging = StagingFolder.create(options.out(), options.force());
        try {
            progress.start(CorpusFiles.totalBytes(files));
            PrepareData job = new PrepareData(options, tokenizer, staging.path());
            Result written = job.write(files, tokenizerInfo, progress);
            staging.commit();
            return new Result(staging.target(), written.manifest(), written.report());
        } catch (Throwable e) {
            try {
                staging.abandon();
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    private final Options options;
    private final Tokenizer tokenizer;
    private final String dtype;
    private final OptionalInt endOfText;
    private final QualityFilter quality;
    private final NearDuplicates nearDuplicates;
    private final Set<ByteBuffer> seen = new HashSet<>();
    private final Map<Removal, Long> removed = new EnumMap<>(Removal.class);
    private final List<DocumentReader.Skipped> skippedSources = new ArrayList<>();
    private final Path folder;
    private final SplitWriter train, val;
    private long read, kept, skipped;
    private Kept heldBack;

    /** A document that passed every rule, with its SHA-256. */
    private record Kept(Document document, byte[] sha256) {}

    private PrepareData(Options options, Tokenizer tokenizer, Path folder) {
        this.options = options;
        this.folder = folder;
        this.tokenizer = tokenizer;
        this.dtype = Shards.dtype(tokenizer.vocabSize());
        this.endOfText = tokenizer.specialToken(END_OF_TEXT);
        this.quality = new QualityFilter(options.rules());
        this.nearDuplicates = new NearDuplicates(options.nearDuplicateThreshold());
        for (Removal r : Removal.values()) removed.put(r, 0L);
        this.train = new SplitWriter(new Shards.Writer(folder, "train", dtype, options.shardTokens()));
        this.val = new SplitWriter(new Shards.Writer(folder, "val", dtype, options.shardTokens()));
    }

    private Result write(List<Path> files, Manifest.TokenizerInfo tokenizerInfo, Progress progress) throws IOException {
        DocumentReader reader = new DocumentReader();
        for (Path file : files) {
            reader.read(file, doc -> {
                accept(doc);
                progress.at(reader.bytesRead());
            }, skip -> {
                skipped++;
                if (skippedSources.size() < SKIPPED_LISTED) skippedSources.add(skip);
            });
            progress.at(reader.bytesRead());
        }
        if (kept == 0) throw new IOException("no usable documents in the inputs (" + summary() + "); nothing written");

        String splitMethod;
        if (heldBack != null) { // the whole corpus is one document
            String text = heldBack.document().text();
            int cut = TrainingData.validationStart(text, options.valFraction());
            train.add(text.substring(0, cut));
            val.add(text.substring(cut));
            splitMethod = "final_fraction_of_single_document";
        } else {
            splitMethod = "document_sha256";
        }
        train.writer.close();
        val.writer.close();

        List<String> warnings = new ArrayList<>();
        if (train.tokens() == 0) warnings.add("the train split is empty");
        if (val.tokens() == 0 && options.valFraction() > 0) warnings.add("the validation split is empty; raise --val-fraction or add documents");

        Map<String, Long> removedByKey = new LinkedHashMap<>();
        removed.forEach((reason, count) -> removedByKey.put(reason.key, count));
        Manifest manifest = new Manifest(Manifest.FORMAT, tokenizerInfo, dtype,
                new Manifest.Documents(read, kept, removedByKey, skipped), train.summary(), val.summary());
        manifest.write(folder);
        Report report = new Report(files.size(), read, kept, removedByKey, skipped, List.copyOf(skippedSources), splitMethod,
                List.copyOf(warnings), new Settings(options.rules(), options.nearDuplicateThreshold(), options.valFraction(), options.shardTokens()));
        Files.write(folder.resolve(REPORT), (Manifest.JSON.writeValueAsString(report) + "\n").getBytes(StandardCharsets.UTF_8));
        return new Result(folder, manifest, report);
    }

    private void accept(Document doc) throws IOException {
        read++;
        byte[] sha256 = Sha256.digest().digest(doc.text().getBytes(StandardCharsets.UTF_8));
        Removal reason = seen.add(ByteBuffer.wrap(sha256)) ? quality.check(doc.text()) : Removal.EXACT_DUPLICATE;
        if (reason == null && nearDuplicates.offer(doc.text())) reason = Removal.NEAR_DUPLICATE;
        if (reason != null) {
            removed.merge(reason, 1L, Long::sum);
            return;
        }
        kept++;
        if (kept == 1) {
            heldBack = new Kept(doc, sha256);
            return;
        }
        if (heldBack != null) {
            addByHash(heldBack);
            heldBack = null;
        }
        addByHash(new Kept(doc, sha256));
    }

    private void addByHash(Kept doc) throws IOException {
        (isValidation(doc.sha256(), options.valFraction()) ? val : train).add(doc.document().text());
    }

    /** True when the first 64 bits of a document's SHA-256, as a fraction of 2^64, fall below {@code valFraction}. */
    static boolean isValidation(byte[] sha256, double valFraction) {
        long top = ByteBuffer.wrap(sha256).getLong();
        return (top >>> 11) * 0x1.0p-53 < valFraction;
    }

    private String summary() {
        StringBuilder s = new StringBuilder(read + " read");
        removed.forEach((reason, count) -> {
            if (count > 0) s.append(", ").append(count).append(' ').append(reason.key);
        });
        return s.append(", ").append(skipped).append(" files or lines skipped").toString();
    }

    private static Integer boxed(OptionalInt id) {
        return id.isPresent() ? id.getAsInt() : null;
    }

    /** One split: its shards, and the documents and text bytes that went in. */
    private final class SplitWriter {
        final Shards.Writer writer;
        long documents, bytes;

        SplitWriter(Shards.Writer writer) {
            this.writer = writer;
        }

        /** Adds a document, after the end-of-text token when one is known and this is not the first. */
        void add(String text) throws IOException {
            if (documents > 0 && endOfText.isPresent()) writer.write(endOfText.getAsInt());
            writer.write(tokenizer.encode(text));
            documents++;
            bytes += text.getBytes(StandardCharsets.UTF_8).length;
        }

        long tokens() {
            return writer.tokens();
        }

        Manifest.Split summary() {
            return new Manifest.Split(documents, writer.tokens(), bytes, writer.shards());
        }
    }
}
