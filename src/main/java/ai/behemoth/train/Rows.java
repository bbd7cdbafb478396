package ai.behemoth.train;

import ai.behemoth.tensor.Parallel;

import java.util.function.IntConsumer;

/**
 * Token-row loops spread over the pool a block of rows per task, so that claiming a task (a shared
 * atomic counter) costs little next to the rows' work. Each row is still computed by one thread
 * with the same code, so the bits do not depend on the thread count.
 */
final class Rows {
    private Rows() {}

    private static final int BLOCK = 16;

    /** Runs {@code row.accept(r)} for every r in [0, n). */
    static void forEach(int n, IntConsumer row) {
        Parallel.forRange((n + BLOCK - 1) / BLOCK, block -> {
            for (int r = block * BLOCK, end = Math.min(n, r + BLOCK); r < end; r++) row.accept(r);
        });
    }
}
