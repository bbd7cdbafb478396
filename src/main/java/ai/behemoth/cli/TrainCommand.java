package ai.behemoth.cli;

import ai.behemoth.data.TrainingData;
import ai.behemoth.data.BundledCorpus;
import ai.behemoth.cost.TrainingFlops;
import ai.behemoth.model.ModelConfig;
import ai.behemoth.tokenizer.BpeTokenizer;
import ai.behemoth.tokenizer.Tokenizer;
import ai.behemoth.tokenizer.Tokenizers;
import ai.behemoth.train.Batches;
import ai.behemoth.train.Checkpoint;
import ai.behemoth.report.MetricsLog;
import ai.behemoth.report.RunReport;
import ai.behemoth.train.GuardOptions;
import ai.behemoth.train.Metrics;
import ai.behemoth.train.ParameterLayout;
import ai.behemoth.train.Schedule;
import ai.behemoth.train.TextSample;
import ai.behemoth.train.TrainOptions;
import ai.behemoth.train.Trainer;
import com.fasterxml.jackson.databind.JsonNode;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.concurrent.Callable;

/** {@code behemoth train}: trains a model from scratch, or resumes a run from its checkpoint. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train an MoE transformer on CPU. With no arguments: the bundled Shakespeare, the tiny preset and "
                + "the byte tokenizer, ending with a generated sample.",
                "The run folder (--out) gets metrics.jsonl, checkpoints/step-N/ (the last K) and final/."})
public final class TrainCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ModelFlags model = new ModelFlags();

    @Option(names = "--data", paramLabel = "PATH", description = "Training text (UTF-8); default: the bundled Shakespeare. The last 10%% validates.")
    Path data;

    @Option(names = "--tokenizer", paramLabel = "bytes|bpe:N|FILE", description = "Byte tokenizer, a BPE of N tokens trained on the data, or a tokenizer.json (default: bytes).")
    String tokenizer;

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder (default: runs/<date-time>; on --resume, the checkpoint's run).")
    Path out;

    @Option(names = "--steps", paramLabel = "N", description = "Optimizer steps (default: 3500).")
    Integer steps;

    @Option(names = "--batch", paramLabel = "N", description = "Sequences per step (default: 8).")
    Integer batch;

    @Mixin
    BalanceFlags balance = new BalanceFlags();

    @Option(names = "--lr", paramLabel = "X", description = "Peak learning rate (default: 3e-3).")
    Double lr;

    @Option(names = "--min-lr-ratio", paramLabel = "X", description = "Final learning rate as a fraction of --lr (default: 0.1).")
    Double minLrRatio;

    @Option(names = "--warmup", paramLabel = "N", description = "Linear warmup steps (default: 100, at most a tenth of --steps).")
    Integer warmup;

    @Option(names = "--schedule", paramLabel = "cosine|wsd", converter = ScheduleConverter.class,
            description = "After warmup: cosine to the minimum, or WSD (hold, then linear decay over the last 20%% of steps). Default: cosine.")
    Schedule.Kind schedule;

    @Option(names = "--weight-decay", paramLabel = "X", description = "AdamW decoupled weight decay on matrices and embeddings (default: 0.5).")
    Double weightDecay;

    @Option(names = "--beta1", paramLabel = "X", description = "AdamW beta1 (default: 0.9).")
    Double beta1;

    @Option(names = "--beta2", paramLabel = "X", description = "AdamW beta2 (default: 0.95).")
    Double beta2;

    @Option(names = "--grad-clip", paramLabel = "X", description = "Maximum global gradient norm, 0 for none (default: 1.0).")
    Double gradClip;

    @Option(names = "--eval-every", paramLabel = "N", description = "Validate every N steps and at the end; 0: only at the end (default: 250).")
    Integer evalEvery;

    @Option(names = "--eval-batches", paramLabel = "N", description = "Validation batches of each periodic evaluation (fixed windows spread over the held-out text; "
            + "the last step evaluates all of it; default: 16).")
    Integer evalBatches;

    @Option(names = "--checkpoint-every", paramLabel = "N", description = "Checkpoint every N steps; 0: only final/ (default: 1000).")
    Integer checkpointEvery;

    @Option(names = "--keep-checkpoints", paramLabel = "K", description = "Keep the last K step checkpoints (default: 3).")
    Integer keepCheckpoints;

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the initial weights, the batches and the sample (default: 1337).")
    Long seed;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores). Results are bit-identical for the same count.")
    Integer threads;

    @Option(names = "--resume", paramLabel = "DIR", description = "Continue from a checkpoint folder, or a run folder's latest checkpoint.")
    Path resume;

    @Mixin
    GuardFlags guard = new GuardFlags();

    @Mixin
    CostFlags cost = new CostFlags();

    /** Tokens generated after training, and the sampling temperature. */
    static final int SAMPLE_TOKENS = 200;
    static final double SAMPLE_TEMPERATURE = 0.8;
    static final String SAMPLE_PROMPT = "ROMEO:";

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        Plan plan = resume != null ? planResume() : planFresh();
        GuardOptions guardOptions = guard.applyTo(plan.checkpoint == null ? GuardOptions.DEFAULTS
                : plan.checkpoint.state().guard().options());
        Trainer trainer = new Trainer(plan.config, plan.options, plan.tokenizer, plan.data, plan.out, plan.checkpoint)
                .guard(guardOptions).costing(cost.resolve(plan.options.threads()));
        Files.createDirectories(plan.out);

        ModelConfig c = plan.config;
        err.printf("behemoth: training %s: %,d parameters (%,d active matrix parameters per token), %d layers × %d wide, %d experts top-%d; "
                        + "%,d training tokens; run folder %s%n",
                plan.checkpoint != null ? "from " + plan.checkpoint.dir() : (model.config != null ? model.config.toString() : (model.preset == null ? "tiny" : model.preset)),
                new ParameterLayout(c).size(), TrainingFlops.activeMatrixParams(c), c.layers(), c.dim(), c.experts(), c.topK(),
                plan.data.train().length, plan.out);

        int start = plan.checkpoint == null ? 0 : plan.checkpoint.state().step();
        if (start == plan.options.steps()) {
            err.printf("behemoth: nothing to do: %s is already at the last step (%d)%n", plan.checkpoint.dir(), start);
            return 0;
        }
        long began = System.nanoTime();
        Trainer.Result result;
        try (ProgressBar bar = new ProgressBarBuilder().setTaskName("train").setInitialMax(plan.options.steps())
                .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
                .setConsumer(new DelegatingProgressBarConsumer(line -> {
                    err.print("\r" + line);
                    err.flush();
                }, 150))
                .startsFrom(start, Duration.ZERO).build()) {
            double[] lastVal = {Double.NaN};
            result = trainer.run(s -> {
                if (s.valLoss() != null) lastVal[0] = s.valBpb();
                bar.stepTo(s.step());
                bar.setExtraMessage(String.format(" loss %.3f · val %s bpb · %,.0f tok/s · MaxVio %.2f",
                        s.trainLoss(), Double.isNaN(lastVal[0]) ? "-" : String.format("%.3f", lastVal[0]),
                        s.tokensPerS(), s.worstMaxVio()));
            });
        }
        err.println();
        double seconds = (System.nanoTime() - began) / 1e9;
        Metrics.Step last = result.last();
        err.printf("behemoth: step %d/%d · train loss %.4f · val %.4f nats/token · %.4f bits/byte · worst MaxVio %.2f · %d dead experts"
                        + " · %.0f s · final checkpoint %s%n",
                last.step(), plan.options.steps(), last.trainLoss(), last.valLoss(), last.valBpb(), last.worstMaxVio(),
                last.deadExperts(), seconds, result.finalDir());
        MetricsLog log = MetricsLog.read(plan.out.resolve(Metrics.FILE));
        JsonNode summary = log.summary();
        err.printf("behemoth: stability guard %s: %d skipped steps, %d rollbacks · %.3g training FLOPs · MFU %s · cost %.4g%n",
                guardOptions.enabled() ? "on" : "off", summary.path("skips").asInt(), summary.path("rollbacks").asInt(),
                summary.path("flops").asDouble(),
                summary.has("mfu") ? String.format("%.1f%%", 100 * summary.get("mfu").asDouble()) : "unknown",
                summary.path("cost").asDouble());
        err.printf("behemoth: report: %s%n", RunReport.write(plan.out));

        int[] prompt = plan.options.data() == null ? plan.tokenizer.encode(SAMPLE_PROMPT)
                : Arrays.copyOf(plan.data.val(), Math.min(16, plan.data.val().length));
        int[] sample = TextSample.continueTokens(result.model(), prompt, SAMPLE_TOKENS, SAMPLE_TEMPERATURE, plan.options.seed());
        PrintWriter stdout = spec.commandLine().getOut();
        stdout.printf("--- sample (%d tokens, temperature %.1f, seed %d) ---%n", SAMPLE_TOKENS, SAMPLE_TEMPERATURE, plan.options.seed());
        stdout.println(new String(plan.tokenizer.decode(prompt), StandardCharsets.UTF_8)
                + new String(plan.tokenizer.decode(sample), StandardCharsets.UTF_8));
        stdout.flush();
        return 0;
    }

    /** Everything a run needs, checked before it starts. */
    private record Plan(ModelConfig config, TrainOptions options, Tokenizer tokenizer, TrainingData data, Path out,
                        Checkpoint.Loaded checkpoint) {}

    private Plan planFresh() throws IOException {
        TrainOptions.Builder b = TrainOptions.DEFAULTS.toBuilder();
        if (data != null) b.data = data.toAbsolutePath().normalize().toString();
        if (tokenizer != null) b.tokenizer = tokenizer;
        if (steps != null && warmup == null) b.warmup = Math.min(b.warmup, steps / 10);
        TrainOptions options = override(b).build();
        Path outDir = out != null ? out : Path.of("runs", LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")));
        requireNoRun(outDir);
        requireWritable(outDir);
        if (data != null && !Files.isReadable(data)) throw new IllegalArgumentException("--data " + data + ": no such readable file or folder");
        ModelConfig config = model.resolve(vocabSizeOf(options.tokenizer()));
        Tokenizer tok = loadTokenizer(options.tokenizer());
        if (tok.vocabSize() != config.vocabSize()) config = model.resolve(tok.vocabSize()); // BPE may stop short of N
        return new Plan(config, options, tok, TrainingData.load(data, tok), outDir, null);
    }

    private Plan planResume() throws IOException {
        Path dir = Checkpoint.resolve(resume);
        Checkpoint.Loaded loaded = Checkpoint.read(dir);
        model.requireMatch(loaded.config(), dir.resolve(Checkpoint.CONFIG));
        TrainOptions saved = loaded.state().options();
        TrainOptions.Builder b = saved.toBuilder();
        if (data != null) b.data = data.toAbsolutePath().normalize().toString();
        if (tokenizer != null) b.tokenizer = tokenizer;
        TrainOptions options = override(b).build();
        String mismatch = saved.trajectoryMismatch(options);
        if (mismatch != null) throw new IllegalArgumentException(dir.resolve(Checkpoint.TRAINER) + ": " + mismatch);

        Path runDir = loaded.runDir();
        Path outDir = out == null ? runDir : out;
        if (!outDir.toAbsolutePath().normalize().equals(runDir)) requireNoRun(outDir);
        requireWritable(outDir);

        Tokenizer tok = options.tokenizer().equals("bytes") ? Tokenizers.load("bytes")
                : Tokenizers.load(dir.resolve(Checkpoint.TOKENIZER).toString());
        if (tok.vocabSize() != loaded.config().vocabSize())
            throw new IllegalArgumentException(dir.resolve(Checkpoint.TOKENIZER) + ": has " + tok.vocabSize()
                    + " tokens, config.json says vocab_size " + loaded.config().vocabSize());
        Path dataPath = options.data() == null ? null : Path.of(options.data());
        TrainingData td = TrainingData.load(dataPath, tok);
        Checkpoint.DataState ds = loaded.state().data();
        if (ds.trainTokens() != td.train().length || ds.valTokens() != td.val().length || !ds.sha256().equals(Trainer.sha256(td)))
            throw new IllegalArgumentException(dir.resolve(Checkpoint.TRAINER) + ": data.sha256: the data at "
                    + (dataPath == null ? "the bundled corpus" : dataPath) + " is not what this run trained on");
        if (!Batches.SAMPLER.equals(ds.sampler()))
            throw new IllegalArgumentException(dir.resolve(Checkpoint.TRAINER) + ": data.sampler is " + ds.sampler()
                    + ", this version samples with " + Batches.SAMPLER);
        return new Plan(loaded.config(), options, tok, td, outDir, loaded);
    }

    /** Applies the training flags that were given. */
    private TrainOptions.Builder override(TrainOptions.Builder b) {
        if (steps != null) b.steps = steps;
        if (batch != null) b.batch = batch;
        if (lr != null) b.lr = lr;
        if (minLrRatio != null) b.minLrRatio = minLrRatio;
        if (warmup != null) b.warmup = warmup;
        if (schedule != null) b.schedule = schedule;
        if (weightDecay != null) b.weightDecay = weightDecay;
        if (beta1 != null) b.beta1 = beta1;
        if (beta2 != null) b.beta2 = beta2;
        if (gradClip != null) b.gradClip = gradClip;
        balance.applyTo(b);
        if (evalEvery != null) b.evalEvery = evalEvery;
        if (evalBatches != null) b.evalBatches = evalBatches;
        if (checkpointEvery != null) b.checkpointEvery = checkpointEvery;
        if (keepCheckpoints != null) b.keepCheckpoints = keepCheckpoints;
        if (seed != null) b.seed = seed;
        if (threads != null) b.threads = threads;
        return b;
    }

    /** A fresh run never writes into a folder that already holds one. */
    static void requireNoRun(Path dir) {
        if (!Files.exists(dir)) return;
        if (!Files.isDirectory(dir)) throw new IllegalArgumentException("--out " + dir + " exists and is not a folder");
        for (String f : new String[]{Metrics.FILE, "checkpoints", "final"})
            if (Files.exists(dir.resolve(f)))
                throw new IllegalArgumentException("--out " + dir + " already holds a run (" + f + "); continue it with --resume "
                        + dir + " or choose another folder");
    }

    /** The folder, or the nearest existing folder above it, must be writable. */
    static void requireWritable(Path dir) {
        Path p = dir.toAbsolutePath().normalize();
        while (p != null && !Files.exists(p)) p = p.getParent();
        if (p == null || !Files.isDirectory(p) || !Files.isWritable(p))
            throw new IllegalArgumentException("--out " + dir + " is not writable" + (p == null ? "" : " (" + p + ")"));
    }

    private static int vocabSizeOf(String spec) throws IOException {
        if (spec.equals("bytes")) return 256;
        if (spec.startsWith("bpe:")) return bpeSize(spec);
        return Tokenizers.load(spec).vocabSize();
    }

    private static int bpeSize(String spec) {
        try {
            int n = Integer.parseInt(spec.substring(4));
            if (n >= BpeTokenizer.MIN_VOCAB) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new IllegalArgumentException("--tokenizer " + spec + ": N in bpe:N must be an integer of at least "
                + BpeTokenizer.MIN_VOCAB + " (the 256 bytes and the special tokens)");
    }

    /** bytes, a tokenizer.json, or (bpe:N) a BPE trained on the training part of the text. */
    private Tokenizer loadTokenizer(String tokenizerSpec) throws IOException {
        if (!tokenizerSpec.startsWith("bpe:")) return Tokenizers.load(tokenizerSpec);
        if (data != null && Files.isDirectory(data))
            throw new IllegalArgumentException("--tokenizer " + tokenizerSpec + " trains on text, but --data " + data
                    + " is a prepared shard folder: pass the tokenizer.json it was prepared with");
        String text = data == null ? BundledCorpus.shakespeare() : Files.readString(data, StandardCharsets.UTF_8);
        String trainPart = text.substring(0, TrainingData.validationStart(text, TrainingData.VAL_FRACTION));
        int size = bpeSize(tokenizerSpec);
        spec.commandLine().getErr().printf("behemoth: training a BPE tokenizer of %d tokens on %,d characters ...%n", size, trainPart.length());
        return BpeTokenizer.train(trainPart, size);
    }

    static final class ScheduleConverter implements ITypeConverter<Schedule.Kind> {
        @Override
        public Schedule.Kind convert(String value) {
            return switch (value) {
                case "cosine" -> Schedule.Kind.COSINE;
                case "wsd" -> Schedule.Kind.WSD;
                default -> throw new TypeConversionException("'" + value + "' is not a schedule (cosine or wsd)");
            };
        }
    }
}
