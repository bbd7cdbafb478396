package ai.behemoth.train;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * The learning rate at each optimizer step {@code 1..steps}: a linear warmup from lr/warmup to lr
 * over the first {@code warmup} steps, then either
 * <ul>
 *   <li>{@code COSINE}: half a cosine from lr down to lr·minLrRatio, reached exactly at the last step;</li>
 *   <li>{@code WSD} (warmup-stable-decay): lr held until the final 20% of steps, then a straight
 *       line down to lr·minLrRatio at the last step.</li>
 * </ul>
 */
public record Schedule(Kind kind, double lr, double minLrRatio, int warmup, int steps) {

    public enum Kind {
        @JsonProperty("cosine") COSINE,
        @JsonProperty("wsd") WSD
    }

    /** The share of all steps that WSD spends decaying. */
    public static final double WSD_DECAY_FRACTION = 0.2;

    public Schedule {
        if (kind == null) throw new IllegalArgumentException("schedule must be set");
        if (!(lr > 0)) throw new IllegalArgumentException("--lr must be positive, got " + lr);
        if (!(minLrRatio >= 0 && minLrRatio <= 1))
            throw new IllegalArgumentException("--min-lr-ratio must be between 0 and 1, got " + minLrRatio);
        if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        if (warmup < 0 || warmup > steps)
            throw new IllegalArgumentException("--warmup must be between 0 and --steps (" + steps + "), got " + warmup);
    }

    /** The learning rate of optimizer step {@code step} (1-based). */
    public double at(int step) {
        if (step < 1 || step > steps) throw new IllegalArgumentException("step " + step + " is outside 1.." + steps);
        if (step <= warmup) return lr * step / warmup;
        double minLr = lr * minLrRatio;
        return switch (kind) {
            case COSINE -> {
                if (steps == warmup) yield lr;
                double progress = (double) (step - warmup) / (steps - warmup);
                yield minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
            }
            case WSD -> {
                int decaySteps = Math.max(1, (int) Math.round(steps * WSD_DECAY_FRACTION));
                int decayStart = Math.max(warmup, steps - decaySteps);
                if (step <= decayStart) yield lr;
                yield lr + (minLr - lr) * (step - decayStart) / (steps - decayStart);
            }
        };
    }
}
