package ai.behemoth.train;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything about a training run that is not the model's shape. Saved in every checkpoint's
 * {@code trainer.json}; on resume the options that decide the trajectory ({@link #TRAJECTORY}) must
 * match, while the bookkeeping ones (threads, evaluation and checkpoint cadence) may change.
 *
 * @param data            the training text or shard folder; null for the bundled Shakespeare
 * @param tokenizer       {@code bytes}, {@code bpe:N} or a tokenizer.json path
 * @param evalEvery       evaluate every N steps (and at the last step); 0: only at the last step
 * @param evalBatches     batches of the sample of validation windows each periodic evaluation uses;
 *                        the last step evaluates the whole validation stream
 * @param checkpointEvery checkpoint every N steps; 0: only the final one
 * @param gradClip        maximum global gradient norm; 0: no clipping
 */
public record TrainOptions(
        String data,
        String tokenizer,
        int steps,
        int batch,
        double lr,
        double minLrRatio,
        int warmup,
        Schedule.Kind schedule,
        double weightDecay,
        double beta1,
        double beta2,
        double gradClip,
        BalanceMode balance,
        double auxAlpha,
        double zLoss,
        double biasGamma,
        int evalEvery,
        int evalBatches,
        int checkpointEvery,
        int keepCheckpoints,
        long seed,
        int threads) {

    /** Balance.Mode under the names the command line and trainer.json use. */
    public enum BalanceMode {
        @JsonProperty("none") NONE,
        @JsonProperty("aux") AUX,
        @JsonProperty("aux-free") AUX_FREE
    }

    /** The options (by JSON name) a resumed run must share with its checkpoint to continue the same trajectory. */
    public static final List<String> TRAJECTORY = List.of("data", "tokenizer", "steps", "batch", "lr", "min_lr_ratio",
            "warmup", "schedule", "weight_decay", "beta1", "beta2", "grad_clip", "balance", "aux_alpha", "z_loss",
            "bias_gamma", "eval_batches", "seed");

    /**
     * The defaults of {@code behemoth train}: the reference recipe (AdamW 0.9/0.95, clip 1.0,
     * cosine to 0.1·lr after 100 warmup steps, Switch aux loss 0.01 with z-loss 0.001) with a smaller
     * batch, a higher peak learning rate and stronger weight decay, chosen by measurement:
     * <ul>
     *   <li>PyTorch, this model, 0.8M tokens: batch 16 at lr 3e-3 reached 1.852 nats/byte, batch 8 at
     *       lr 3e-3 1.746 (the reference, batch 16 at lr 1e-3, reaches 1.616 only after 2M tokens);</li>
     *   <li>Behemoth, 3000 steps of 8 × 128 tokens: weight decay 0.1 ended at 1.578 nats/byte on the
     *       whole validation text (2.277 bits/byte; training loss 1.35, so it was memorising), 0.5 at
     *       1.552 and, in a second run after kernel changes altered the rounding, 1.574 (2.239 and 2.271
     *       bits/byte); lr 5e-3 over 3500 steps trailed lr 3e-3 at every evaluation;</li>
     *   <li>3500 steps (3.6M tokens) with weight decay 0.5: 1.5528 nats/byte, 2.240 bits/byte, below the
     *       2.25 target that 3000 steps straddle, in 390 s of training at 9,200 tokens/s on a shared
     *       2-core machine (its steps ran at 14,000–16,000 tokens/s when the cores were free).</li>
     * </ul>
     */
    public static final TrainOptions DEFAULTS = new TrainOptions(null, "bytes", 3500, 8, 3e-3, 0.1, 100,
            Schedule.Kind.COSINE, 0.5, 0.9, 0.95, 1.0, BalanceMode.AUX, 0.01, 0.001, 0.001,
            250, 16, 1000, 3, 1337, Runtime.getRuntime().availableProcessors());

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);

    public TrainOptions {
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(balance, "balance");
    }

    /** Checks every option, naming the flag of the first bad one; returns this. */
    public TrainOptions validate() {
        lrSchedule();
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        if (!(beta1 >= 0 && beta1 < 1)) throw new IllegalArgumentException("--beta1 must be in [0, 1), got " + beta1);
        if (!(beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("--beta2 must be in [0, 1), got " + beta2);
        if (!(weightDecay >= 0)) throw new IllegalArgumentException("--weight-decay must not be negative, got " + weightDecay);
        if (!(gradClip >= 0)) throw new IllegalArgumentException("--grad-clip must not be negative, got " + gradClip);
        if (!(auxAlpha >= 0)) throw new IllegalArgumentException("--aux-alpha must not be negative, got " + auxAlpha);
        if (!(zLoss >= 0)) throw new IllegalArgumentException("--z-loss must not be negative, got " + zLoss);
        if (!(biasGamma >= 0)) throw new IllegalArgumentException("--bias-gamma must not be negative, got " + biasGamma);
        if (evalEvery < 0) throw new IllegalArgumentException("--eval-every must be 0 (last step only) or more, got " + evalEvery);
        if (evalBatches < 1) throw new IllegalArgumentException("--eval-batches must be at least 1, got " + evalBatches);
        if (checkpointEvery < 0)
            throw new IllegalArgumentException("--checkpoint-every must be 0 (final only) or more, got " + checkpointEvery);
        if (keepCheckpoints < 1) throw new IllegalArgumentException("--keep-checkpoints must be at least 1, got " + keepCheckpoints);
        if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        if (tokenizer.isBlank()) throw new IllegalArgumentException("--tokenizer must not be empty");
        return this;
    }

    public Schedule lrSchedule() {
        return new Schedule(schedule, lr, minLrRatio, warmup, steps);
    }

    public Balance balancing() {
        return new Balance(Balance.Mode.valueOf(balance.name()), auxAlpha, zLoss, biasGamma);
    }

    /** The first trajectory option (JSON name) whose value differs in {@code other}, with both values; null when none. */
    public String trajectoryMismatch(TrainOptions other) {
        Map<String, Object> mine = asMap(), theirs = other.asMap();
        for (String field : TRAJECTORY) {
            if (!Objects.equals(mine.get(field), theirs.get(field)))
                return field + " is " + mine.get(field) + " but " + theirs.get(field) + " was requested";
        }
        return null;
    }

    /** The options under their trainer.json names. */
    public Map<String, Object> asMap() {
        return JSON.convertValue(this, new TypeReference<>() {});
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A mutable copy, for command-line overrides. */
    public static final class Builder {
        public String data, tokenizer;
        public int steps, batch, warmup, evalEvery, evalBatches, checkpointEvery, keepCheckpoints, threads;
        public double lr, minLrRatio, weightDecay, beta1, beta2, gradClip, auxAlpha, zLoss, biasGamma;
        public Schedule.Kind schedule;
        public BalanceMode balance;
        public long seed;

        Builder(TrainOptions o) {
            data = o.data; tokenizer = o.tokenizer; steps = o.steps; batch = o.batch; lr = o.lr; minLrRatio = o.minLrRatio;
            warmup = o.warmup; schedule = o.schedule; weightDecay = o.weightDecay; beta1 = o.beta1; beta2 = o.beta2;
            gradClip = o.gradClip; balance = o.balance; auxAlpha = o.auxAlpha; zLoss = o.zLoss; biasGamma = o.biasGamma;
            evalEvery = o.evalEvery; evalBatches = o.evalBatches; checkpointEvery = o.checkpointEvery;
            keepCheckpoints = o.keepCheckpoints; seed = o.seed; threads = o.threads;
        }

        public TrainOptions build() {
            return new TrainOptions(data, tokenizer, steps, batch, lr, minLrRatio, warmup, schedule, weightDecay, beta1,
                    beta2, gradClip, balance, auxAlpha, zLoss, biasGamma, evalEvery, evalBatches, checkpointEvery,
                    keepCheckpoints, seed, threads).validate();
        }
    }
}
