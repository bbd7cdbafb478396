package ai.behemoth.train;

import java.util.SplittableRandom;

/**
 * Training and validation batches as windows of {@code seq + 1} tokens: the first {@code seq} are the
 * inputs, the last {@code seq} (shifted by one) the targets.
 *
 * <p>The training batch of step {@code s} is a pure function of (seed, s): {@code batch} windows at
 * uniformly random starts drawn from a generator seeded by both. No cursor has to be carried from
 * step to step, so a resumed run sees exactly the batches an uninterrupted one would. Validation
 * uses fixed windows spread evenly over the validation stream.
 */
public final class Batches {
    /** Names this sampling scheme in checkpoints, so that a change to it is caught on resume. */
    public static final String SAMPLER = "uniform-windows-v1";

    /** Inputs and targets, each {@code [batch · seq]}. */
    public record Batch(int[] tokens, int[] targets, int batch, int seq) {}

    private final int batch, seq;

    public Batches(int batch, int seq) {
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        if (seq < 1) throw new IllegalArgumentException("--ctx must be at least 1, got " + seq);
        this.batch = batch;
        this.seq = seq;
    }

    /** The training batch of optimizer step {@code step}. */
    public Batch train(int[] stream, long seed, int step) {
        requireLength(stream, "training");
        SplittableRandom rng = new SplittableRandom(mix(seed, step));
        int[] starts = new int[batch];
        int bound = stream.length - seq; // last valid start: a window needs seq + 1 tokens
        for (int b = 0; b < batch; b++) starts[b] = rng.nextInt(bound);
        return windows(stream, starts);
    }

    /** Validation batch {@code index} of {@code count}: windows at evenly spaced starts. */
    public Batch validation(int[] stream, int index, int count) {
        requireLength(stream, "validation");
        int windows = batch * count;
        long span = stream.length - seq - 1; // last valid start
        int[] starts = new int[batch];
        for (int b = 0; b < batch; b++) {
            long w = (long) index * batch + b;
            starts[b] = windows == 1 ? 0 : (int) (span * w / (windows - 1));
        }
        return windows(stream, starts);
    }

    /** How many disjoint windows tile {@code stream} from its start (the rest, shorter than a window, is left out). */
    public int disjointWindows(int[] stream) {
        return (stream.length - 1) / seq;
    }

    /**
     * Disjoint windows {@code first .. first + count - 1} from the start of {@code stream} (window w
     * starts at w·seq), as a batch of {@code count ≤ batch} rows: together they cover the whole stream.
     */
    public Batch disjoint(int[] stream, int first, int count) {
        if (count < 1 || count > batch || first < 0 || first + count > disjointWindows(stream))
            throw new IllegalArgumentException("windows " + first + ".." + (first + count - 1) + " do not fit a batch of "
                    + batch + " over " + disjointWindows(stream) + " windows");
        int[] starts = new int[count];
        for (int i = 0; i < count; i++) starts[i] = (first + i) * seq;
        return windows(stream, starts);
    }

    private Batch windows(int[] stream, int[] starts) {
        int rows = starts.length;
        int[] tokens = new int[rows * seq], targets = new int[rows * seq];
        for (int b = 0; b < rows; b++) {
            System.arraycopy(stream, starts[b], tokens, b * seq, seq);
            System.arraycopy(stream, starts[b] + 1, targets, b * seq, seq);
        }
        return new Batch(tokens, targets, rows, seq);
    }

    private void requireLength(int[] stream, String which) {
        if (stream.length < seq + 1)
            throw new IllegalArgumentException("the " + which + " stream has " + stream.length
                    + " tokens, fewer than --ctx + 1 = " + (seq + 1));
    }

    /** SplitMix64's finaliser over the seed and the step: unrelated generators for neighbouring steps. */
    static long mix(long seed, long step) {
        long z = seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
