package ai.behemoth.tensor;

import java.util.function.IntConsumer;

/**
 * The thread pool every kernel shares, sized to the machine unless {@link #setThreads} says otherwise.
 * {@link #forRange} hands each index to exactly one thread, so a body that writes only its own
 * outputs gives the same bits whatever the thread count.
 *
 * <p>PLACEHOLDER implementation (runs on the calling thread); the persistent-worker pool replaces it.
 */
public final class Parallel {
    private Parallel() {}

    private static int threads = Runtime.getRuntime().availableProcessors();

    public static int threads() {
        return threads;
    }

    public static void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be at least 1, got " + n);
        threads = n;
    }

    /** Runs {@code body.accept(i)} for every i in [0, n), spread over the pool; returns when all are done. */
    public static void forRange(int n, IntConsumer body) {
        for (int i = 0; i < n; i++) body.accept(i);
    }
}
