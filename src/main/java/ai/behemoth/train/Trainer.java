package ai.behemoth.train;

import ai.behemoth.Version;
import ai.behemoth.cost.RunCost;
import ai.behemoth.cost.TrainingFlops;
import ai.behemoth.report.RunEvent;
import ai.behemoth.data.TrainingData;
import ai.behemoth.model.ModelConfig;
import ai.behemoth.tensor.Parallel;
import ai.behemoth.tokenizer.Tokenizer;
import com.fasterxml.jackson.core.type.TypeReference;
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
 * step (batch, learning rate) or saved in the checkpoint (parameters, moments, router biases, the
 * guard's memory and data offset), so a resumed run reproduces an uninterrupted one bit for bit.
 *
 * <p>The stability {@link Guard} judges every step after its backward pass: a bad step's update is
 * skipped (parameters, AdamW moments and router biases untouched); {@code maxBad} bad steps within
 * {@code badWindow} restore the last good {@link Snapshot}, move the data offset past the batches
 * trained since it, and multiply the learning rate by {@code lrDrop}. Each of these is an event line
 * in metrics.jsonl ({@link ai.behemoth.report.RunEvent}) and counted in the summary.
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

    /**
     * What the machine costs, for the summary's MFU, energy and money ({@link RunCost}).
     *
     * @param peakGflops the machine's measured peak ({@code behemoth bench peak}), 0 when unknown
     */
    public record Costing(double peakGflops, double watts, double priceKwh, double priceHour) {
        public static final Costing UNKNOWN = new Costing(0, 0, 0, 0);
    }

    private GuardOptions guardOptions = GuardOptions.DEFAULTS;
    private Faults faults = Faults.NONE;
    private Costing costing = Costing.UNKNOWN;

    /** The stability guard's settings (default {@link GuardOptions#DEFAULTS}); returns this. */
    public Trainer guard(GuardOptions g) {
        this.guardOptions = g.validate();
        return this;
    }

    /** Faults to inject, for tests of the guard; returns this. */
    public Trainer faults(Faults f) {
        this.faults = f;
        return this;
    }

    public Trainer costing(Costing c) {
        this.costing = c;
        return this;
    }

    /**
     * The last good state, kept in memory for the stability guard's rollback: taken at the start and
     * at every checkpoint whose step follows no recent bad step, so a rollback works before the first
     * checkpoint is on disk and costs no reading. It holds a copy of the parameters and both moments
     * (three times the parameters' memory). A resumed run starts with its checkpoint as the snapshot,
     * which is the snapshot an uninterrupted run holds unless a bad step preceded that checkpoint.
     */
    private record Snapshot(int step, float[] params, float[] m, float[] v, float[][] bias) {
        static Snapshot of(int step, Transformer model, AdamW adam) {
            float[][] bias = model.routerBias().clone();
            for (int i = 0; i < bias.length; i++) bias[i] = bias[i].clone();
            return new Snapshot(step, model.params().clone(), adam.m().clone(), adam.v().clone(), bias);
        }

        void restore(Transformer model, AdamW adam) {
            System.arraycopy(params, 0, model.params(), 0, params.length);
            adam.load(m, v);
            float[][] live = model.routerBias();
            for (int i = 0; i < live.length; i++) System.arraycopy(bias[i], 0, live[i], 0, bias[i].length);
        }
    }

    /** A run that rolls back this often never gets past its fault: it stops with an error rather than loop. */
    static final int MAX_ROLLBACKS = 10;

    public Result run(Listener listener) throws IOException {
        Parallel.setThreads(options.threads());
        Balance balance = options.balancing();
        Schedule schedule = options.lrSchedule();
        Batches batches = new Batches(options.batch(), config.context());
        Transformer model = new Transformer(config, balance, options.batch(), config.context());
        AdamW adam = new AdamW(model.layout(), options.beta1(), options.beta2(), options.weightDecay());
        String dataSha = sha256(data);

        int start = 0, offset = 0;
        Guard guard = new Guard(guardOptions);
        if (resume != null) {
            System.arraycopy(resume.params(), 0, model.params(), 0, resume.params().length);
            adam.load(resume.m(), resume.v());
            float[][] bias = model.routerBias();
            for (int i = 0; i < bias.length; i++) System.arraycopy(resume.state().routerBias()[i], 0, bias[i], 0, bias[i].length);
            start = resume.state().step();
            offset = resume.state().data().stepOffset();
            guard = new Guard(guardOptions, resume.state().guard());
        } else {
            model.initialize(options.seed());
        }
        Snapshot good = guardOptions.enabled() ? Snapshot.of(start, model, adam) : null;

        Files.createDirectories(out.resolve("checkpoints"));
        Path metricsFile = out.resolve(Metrics.FILE);
        Metrics.Step last = null;
        Path finalDir = out.resolve("final");
        long stepsRun = 0;
        try (Metrics metrics = resume == null ? Metrics.create(metricsFile)
                : Metrics.resume(resume.runDir().resolve(Metrics.FILE), metricsFile, start)) {
            if (resume == null) metrics.event(Metrics.CONFIG, configEvent(dataSha));
            long began = System.nanoTime();
            for (int step = start + 1; step <= options.steps(); step++) {
                long t0 = System.nanoTime();
                int dataStep = step + offset;
                Batches.Batch batch = batches.train(data.train(), options.seed(), dataStep);
                model.zeroGrads();
                Loss loss = model.forward(batch.tokens(), batch.targets(), batch.batch(), batch.seq());
                List<RouterStats> experts = List.copyOf(model.routerStats());
                model.backward();
                double ce = faults.afterBackward(dataStep, loss.ce(), model, adam);
                double gradNorm = adam.clip(model.grads(), options.gradClip());
                double lr = faults.lr(dataStep, schedule.at(step) * guard.lrScale());
                Guard.Verdict verdict = guard.judge(ce, gradNorm);
                boolean rollback = false;
                if (verdict == null) {
                    guard.good(ce, gradNorm);
                    adam.step(model.params(), model.grads(), step, lr);
                    if (balance.mode() == Balance.Mode.AUX_FREE) {
                        float[][] bias = model.routerBias();
                        for (int i = 0; i < bias.length; i++) MoeFfn.updateBias(bias[i], experts.get(i).counts(), balance.biasGamma());
                    }
                } else {
                    // The gradients are discarded: parameters, moments and router biases stay as they were.
                    if (verdict.spike()) metrics.event(RunEvent.SPIKE, spikeEvent(step, verdict));
                    metrics.event(RunEvent.SKIP, skipEvent(step, dataStep, verdict));
                    rollback = guard.bad(step);
                }
                double seconds = (System.nanoTime() - t0) / 1e9;
                stepsRun++;

                Double valLoss = null, valBpb = null;
                if (!rollback && (step == options.steps() || (options.evalEvery() > 0 && step % options.evalEvery() == 0))) {
                    valLoss = step == options.steps() ? wholeValidationLoss(model, batches) : validationLoss(model, batches);
                    valBpb = valLoss * data.val().length / data.valBytes() / Math.log(2);
                }
                last = new Metrics.Step(step, ce, valLoss, valBpb, lr, gradNorm, batch.tokens().length / seconds, experts);
                metrics.append(last);
                if (listener != null) listener.onStep(last);

                if (rollback) {
                    if (guard.rollbacks() >= MAX_ROLLBACKS)
                        throw new IOException("the stability guard rolled back " + MAX_ROLLBACKS + " times and step " + step
                                + " is still bad (" + verdict.reason() + "); see " + metricsFile);
                    good.restore(model, adam);
                    int firstSkipped = good.step() + 1 + offset, lastSkipped = dataStep;
                    offset += step - good.step();
                    guard.rolledBack();
                    metrics.event(RunEvent.ROLLBACK, rollbackEvent(step, good.step(), firstSkipped, lastSkipped, guard));
                    step = good.step(); // the loop continues at the step after the snapshot, on new data
                    continue;
                }

                boolean checkpointDue = options.checkpointEvery() > 0 && step % options.checkpointEvery() == 0;
                if (checkpointDue || step == options.steps()) {
                    Path dir = step == options.steps() ? finalDir : Checkpoint.stepDir(out, step);
                    Checkpoint.TrainerState state = new Checkpoint.TrainerState(Checkpoint.FORMAT, Version.get(), step,
                            options.seed(), options, model.routerBias(),
                            new Checkpoint.DataState(Batches.SAMPLER, options.seed(), step + 1, offset, data.train().length,
                                    data.val().length, data.trainBytes(), data.valBytes(), dataSha),
                            guard.state());
                    Checkpoint.write(dir, config, model.layout(), tokenizer, model.params(), adam.m(), adam.v(), state);
                    Checkpoint.keepLast(out.resolve("checkpoints"), options.keepCheckpoints());
                    if (good != null && !guard.recentBad(step)) good = Snapshot.of(step, model, adam);
                }
            }
            if (last != null)
                metrics.event(Metrics.SUMMARY, summaryEvent(last, start, stepsRun, (System.nanoTime() - began) / 1e9, guard, offset));
        }
        return new Result(last, finalDir, model);
    }

    private static Map<String, Object> spikeEvent(int step, Guard.Verdict v) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("step", step);
        e.put("reason", v.reason());
        e.put("value", v.value());
        e.put("mean", v.mean());
        e.put("std", v.std());
        e.put("zscore", v.zscore());
        return e;
    }

    private static Map<String, Object> skipEvent(int step, int dataStep, Guard.Verdict v) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("step", step);
        e.put("reason", v.reason());
        e.put("value", v.value());
        e.put("data_step", dataStep);
        return e;
    }

    private static Map<String, Object> rollbackEvent(int step, int toStep, int firstSkipped, int lastSkipped, Guard guard) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("step", step);
        e.put("to_step", toStep);
        e.put("reason", guard.options().maxBad() + " bad steps in " + guard.options().badWindow());
        e.put("skip_data", List.of(firstSkipped, lastSkipped));
        e.put("lr_scale", guard.lrScale());
        return e;
    }

    /** The run's settings, for the report's configuration table. */
    private Map<String, Object> configEvent(String dataSha) throws IOException {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("version", Version.get());
        e.put("model", JSON.readTree(config.toJson()));
        e.put("options", options.asMap());
        Map<String, Object> guard = new LinkedHashMap<>();
        guard.put("enabled", guardOptions.enabled());
        guard.put("window", guardOptions.window());
        guard.put("loss_z", guardOptions.lossZ());
        guard.put("grad_z", guardOptions.gradZ());
        guard.put("max_bad", guardOptions.maxBad());
        guard.put("bad_window", guardOptions.badWindow());
        guard.put("lr_drop", guardOptions.lrDrop());
        e.put("guard", guard);
        e.put("data_sha256", dataSha);
        e.put("train_tokens", data.train().length);
        e.put("val_tokens", data.val().length);
        return e;
    }

    /**
     * The end of the run: losses of the last step, and the tokens, seconds and FLOPs (6·N + 12·L·T·D
     * per token, {@link TrainingFlops}) of the steps this invocation computed (rolled-back ones included),
     * with their cost ({@link RunCost}), and what the stability guard did.
     */
    private Map<String, Object> summaryEvent(Metrics.Step last, int start, long stepsRun, double seconds, Guard guard,
                                             int offset) {
        long tokens = stepsRun * options.batch() * config.context();
        double flopsPerToken = TrainingFlops.perToken(config, config.context());
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("step", last.step());
        e.put("resumed_from", start);
        e.put("tokens", tokens);
        e.put("seconds", seconds);
        e.put("tokens_per_s", tokens / seconds);
        e.put("flops_per_token", flopsPerToken);
        RunCost cost = new RunCost(flopsPerToken * tokens, seconds, costing.peakGflops(), costing.watts(),
                costing.priceKwh(), costing.priceHour());
        e.putAll(JSON.convertValue(cost.putInto(JSON.createObjectNode()), new TypeReference<Map<String, Object>>() {}));
        e.put("train_loss", last.trainLoss());
        e.put("val_loss", last.valLoss());
        e.put("val_bpb", last.valBpb());
        e.put("max_vio", last.worstMaxVio());
        e.put("dead_experts", last.deadExperts());
        e.put("guard", guard.options().enabled() ? "on" : "off");
        e.put("skips", guard.skips());
        e.put("rollbacks", guard.rollbacks());
        e.put("lr_scale", guard.lrScale());
        e.put("data_step_offset", offset);
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
