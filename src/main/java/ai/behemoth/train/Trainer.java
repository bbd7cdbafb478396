package ai.behemoth.train;

import ai.behemoth.Version;
import ai.behemoth.cost.TrainingFlops;
import ai.behemoth.data.TrainingData;
import ai.behemoth.model.ModelConfig;
import ai.behemoth.tensor.Parallel;
import ai.behemoth.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The training loop: for each step, the batch of (seed, step), forward, backward, gradient clipping,
 * AdamW at the scheduled learning rate, then the aux-loss-free bias update; validation, metrics and
 * checkpoints at their cadence. Everything a later step depends on is either a pure function of the
 * step (batch, learning rate) or saved in the checkpoint (parameters, moments, router biases), so a
 * resumed run reproduces an uninterrupted one bit for bit.
 */
public final class Trainer {

    /** Told about every finished step (for a progress bar). */
    public interface Listener {
        void onStep(Metrics.Step step);
    }

    /** The end of a run: the final step's figures and the model as trained. */
    public record Result(Metrics.Step last, Path finalDir, Transformer model) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private final ModelConfig config;
    private final TrainOptions options;
    private final Tokenizer tokenizer;
    private final TrainingData data;
    private final Path out;
    private final Checkpoint.Loaded resume;

    /**
     * @param out    the run folder (created when missing)
     * @param resume the checkpoint to continue from, already read and checked; null for a fresh run
     */
    public Trainer(ModelConfig config, TrainOptions options, Tokenizer tokenizer, TrainingData data, Path out,
                   Checkpoint.Loaded resume) {
        this.config = config.validate();
        this.options = options.validate();
        this.tokenizer = tokenizer;
        this.data = data;
        this.out = out;
        this.resume = resume;
        if (tokenizer.vocabSize() != config.vocabSize())
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize() + " tokens, the model's vocab_size is "
                    + config.vocabSize());
        Batches batches = new Batches(options.batch(), config.context());
        batches.train(data.train(), options.seed(), 1); // fails now, not mid-run, when a stream is shorter than a window
        batches.validation(data.val(), 0, options.evalBatches());
    }

    public Result run(Listener listener) throws IOException {
        Parallel.setThreads(options.threads());
        Balance balance = options.balancing();
        Schedule schedule = options.lrSchedule();
        Batches batches = new Batches(options.batch(), config.context());
        Transformer model = new Transformer(config, balance, options.batch(), config.context());
        AdamW adam = new AdamW(model.layout(), options.beta1(), options.beta2(), options.weightDecay());
        String dataSha = sha256(data);

        int start = 0;
        if (resume != null) {
            System.arraycopy(resume.params(), 0, model.params(), 0, resume.params().length);
            adam.load(resume.m(), resume.v());
            float[][] bias = model.routerBias();
            for (int i = 0; i < bias.length; i++) System.arraycopy(resume.state().routerBias()[i], 0, bias[i], 0, bias[i].length);
            start = resume.state().step();
        } else {
            model.initialize(options.seed());
        }

        Files.createDirectories(out.resolve("checkpoints"));
        Path metricsFile = out.resolve(Metrics.FILE);
        Metrics.Step last = null;
        Path finalDir = out.resolve("final");
        try (Metrics metrics = resume == null ? Metrics.create(metricsFile)
                : Metrics.resume(resume.runDir().resolve(Metrics.FILE), metricsFile, start)) {
            if (resume == null) metrics.event(Metrics.CONFIG, configEvent(dataSha));
            long began = System.nanoTime();
            for (int step = start + 1; step <= options.steps(); step++) {
                long t0 = System.nanoTime();
                Batches.Batch batch = batches.train(data.train(), options.seed(), step);
                model.zeroGrads();
                Loss loss = model.forward(batch.tokens(), batch.targets(), batch.batch(), batch.seq());
                List<RouterStats> experts = List.copyOf(model.routerStats());
                model.backward();
                double gradNorm = adam.clip(model.grads(), options.gradClip());
                double lr = schedule.at(step);
                adam.step(model.params(), model.grads(), step, lr);
                if (balance.mode() == Balance.Mode.AUX_FREE) {
                    float[][] bias = model.routerBias();
                    for (int i = 0; i < bias.length; i++) MoeFfn.updateBias(bias[i], experts.get(i).counts(), balance.biasGamma());
                }
                double seconds = (System.nanoTime() - t0) / 1e9;

                Double valLoss = null, valBpb = null;
                if (step == options.steps() || (options.evalEvery() > 0 && step % options.evalEvery() == 0)) {
                    valLoss = step == options.steps() ? wholeValidationLoss(model, batches) : validationLoss(model, batches);
                    valBpb = valLoss * data.val().length / data.valBytes() / Math.log(2);
                }
                last = new Metrics.Step(step, loss.ce(), valLoss, valBpb, lr, gradNorm,
                        batch.tokens().length / seconds, experts);
                metrics.append(last);
                if (listener != null) listener.onStep(last);

                boolean checkpointDue = options.checkpointEvery() > 0 && step % options.checkpointEvery() == 0;
                if (checkpointDue || step == options.steps()) {
                    Path dir = step == options.steps() ? finalDir : Checkpoint.stepDir(out, step);
                    Checkpoint.TrainerState state = new Checkpoint.TrainerState(Checkpoint.FORMAT, Version.get(), step,
                            options.seed(), options, model.routerBias(),
                            new Checkpoint.DataState(Batches.SAMPLER, options.seed(), step + 1, data.train().length,
                                    data.val().length, data.trainBytes(), data.valBytes(), dataSha));
                    Checkpoint.write(dir, config, model.layout(), tokenizer, model.params(), adam.m(), adam.v(), state);
                    Checkpoint.keepLast(out.resolve("checkpoints"), options.keepCheckpoints());
                }
            }
            if (last != null) metrics.event(Metrics.SUMMARY, summaryEvent(last, start, (System.nanoTime() - began) / 1e9));
        }
        return new Result(last, finalDir, model);
    }

    /** The run's settings, for the report's configuration table. */
    private Map<String, Object> configEvent(String dataSha) throws IOException {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("version", Version.get());
        e.put("model", JSON.readTree(config.toJson()));
        e.put("options", options.asMap());
        e.put("data_sha256", dataSha);
        e.put("train_tokens", data.train().length);
        e.put("val_tokens", data.val().length);
        return e;
    }

    /**
     * The end of the run: losses of the last step, and the tokens, seconds and FLOPs (6·N + 12·L·T·D
     * per token, {@link TrainingFlops}) of the steps this invocation trained.
     */
    private Map<String, Object> summaryEvent(Metrics.Step last, int start, double seconds) {
        long tokens = (long) (last.step() - start) * options.batch() * config.context();
        double flopsPerToken = TrainingFlops.perToken(config, config.context());
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("step", last.step());
        e.put("resumed_from", start);
        e.put("tokens", tokens);
        e.put("seconds", seconds);
        e.put("tokens_per_s", tokens / seconds);
        e.put("flops_per_token", flopsPerToken);
        e.put("flops", flopsPerToken * tokens);
        e.put("gflops_per_s", flopsPerToken * tokens / seconds / 1e9);
        e.put("train_loss", last.trainLoss());
        e.put("val_loss", last.valLoss());
        e.put("val_bpb", last.valBpb());
        e.put("max_vio", last.worstMaxVio());
        e.put("dead_experts", last.deadExperts());
        return e;
    }

    /**
     * Mean cross-entropy (nats per token) over the whole validation stream, cut into disjoint windows:
     * the figure a finished run is judged by, with no sampling noise.
     */
    private double wholeValidationLoss(Transformer model, Batches batches) {
        int windows = batches.disjointWindows(data.val());
        double sum = 0;
        for (int first = 0; first < windows; first += options.batch()) {
            int count = Math.min(options.batch(), windows - first);
            Batches.Batch b = batches.disjoint(data.val(), first, count);
            sum += model.forward(b.tokens(), b.targets(), b.batch(), b.seq()).ce() * count;
        }
        return sum / windows;
    }

    /** Mean cross-entropy (nats per token) over the fixed sample of validation windows. */
    private double validationLoss(Transformer model, Batches batches) {
        double sum = 0;
        for (int i = 0; i < options.evalBatches(); i++) {
            Batches.Batch b = batches.validation(data.val(), i, options.evalBatches());
            sum += model.forward(b.tokens(), b.targets(), b.batch(), b.seq()).ce();
        }
        return sum / options.evalBatches();
    }

    /** SHA-256 of the training and validation token streams: identifies the data a checkpoint was trained on. */
    public static String sha256(TrainingData data) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (int[] stream : List.of(data.train(), data.val())) {
                ByteBuffer buf = ByteBuffer.allocate(4 * 4096).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < stream.length; i += 4096) {
                    buf.clear();
                    for (int j = i; j < Math.min(stream.length, i + 4096); j++) buf.putInt(stream[j]);
                    md.update(buf.array(), 0, buf.position());
                }
                md.update((byte) 0xff); // separates the two streams
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
