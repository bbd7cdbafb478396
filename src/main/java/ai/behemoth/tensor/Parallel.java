package ai.behemoth.tensor;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicLongFieldUpdater;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntConsumer;

/**
 * The thread pool every kernel shares, sized to the machine unless {@link #setThreads} says otherwise.
 * {@link #forRange} hands each index to exactly one thread, so a body that writes only its own
 * outputs gives the same bits whatever the thread count.
 *
 * <p>The pool is {@code threads - 1} persistent daemon workers plus the calling thread, which
 * always takes part: indices are claimed from a shared counter in chunks that shrink as the range
 * runs out (large first, so per-row bodies do not pay an atomic operation each; small last, so the
 * threads finish together), so a worker that the operating system is slow to schedule delays
 * little, and a call never waits for a worker to start.
 * Idle workers spin briefly (training issues calls back to back) and then park.
 *
 * <p>A call made while the pool is busy (from inside a body, or from a second outside thread) runs
 * inline on the calling thread: nested parallelism never deadlocks and never oversubscribes the cores.
 */
public final class Parallel {
    private Parallel() {}

    /**
     * How long an idle worker, or a caller waiting for the last indices, spins before it parks. Long
     * enough to span the gaps of a training step (a serial piece between two calls, a thread waiting
     * for the other's last expert), where a park and its wake-up would delay the next call.
     */
    private static final long SPIN_NANOS = 200_000;

    private static volatile int threads = Runtime.getRuntime().availableProcessors();
    private static volatile Pool pool; // created on first use; replaced under Parallel.class

    public static int threads() {
        return threads;
    }

    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be at least 1, got " + n);
        if (n == threads) return;
        threads = n;
        if (pool != null) {
            pool.shutdown();
            pool = null;
        }
    }

    /** Runs {@code body.accept(i)} for every i in [0, n), spread over the pool; returns when all are done. */
    public static void forRange(int n, IntConsumer body) {
        if (n <= 0) return;
        if (n == 1 || threads == 1) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        Pool p = pool;
        if (p == null) p = startPool();
        if (!p.busy.compareAndSet(false, true)) { // nested, or another thread owns the pool
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        try {
            p.run(new Job(n, Math.max(1, n / (128 * threads)), 4 * threads, body, ++p.jobs));
        } finally {
            p.busy.set(false);
        }
    }

    /**
     * Starts the pool on first use (or after {@link #setThreads}). A caller still holding a pool that
     * setThreads has just shut down finishes its indices alone: correct, only slower, once.
     */
    private static synchronized Pool startPool() {
        if (pool == null) pool = new Pool(threads - 1);
        return pool;
    }

    /** One forRange call: the index counter, the completion count, the first failure. */
    private static final class Job {
        private static final AtomicLongFieldUpdater<Job> NEXT = AtomicLongFieldUpdater.newUpdater(Job.class, "next");
        private static final AtomicIntegerFieldUpdater<Job> DONE = AtomicIntegerFieldUpdater.newUpdater(Job.class, "done");

        final int n;
        final int minChunk;
        final int shares;
        final IntConsumer body;
        final long id;
        volatile long next;
        volatile int done;
        volatile Throwable failure;
        volatile Thread waiter; // the caller, once it has parked waiting for stragglers

        Job(int n, int minChunk, int shares, IntConsumer body, long id) {
            this.n = n;
            this.minChunk = minChunk;
            this.shares = shares;
            this.body = body;
            this.id = id;
        }

        /**
         * Claims and runs indices until none are left; returns how many this thread ran. Each claim
         * takes a share of what is left ({@code 1 / (4·threads)} of it, at least {@code minChunk}),
         * so the first claims are large and the last ones small: a thread that finds nothing left
         * waits at most for one small claim of the others, not for an eighth of its share.
         */
        int work() {
            int ran = 0;
            for (long start; (start = next) < n; ) {
                int size = Math.max(minChunk, (int) ((n - start) / shares));
                if (!NEXT.compareAndSet(this, start, start + size)) continue;
                int from = (int) start, to = (int) Math.min(n, start + size);
                ran += to - from;
                if (failure != null) continue; // after a failure the rest are only counted off
                try {
                    for (int i = from; i < to; i++) body.accept(i);
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                }
            }
            return ran;
        }

        /** Records that {@code ran} indices are finished; wakes the caller after the last one. */
        void finished(int ran) {
            if (ran > 0 && DONE.addAndGet(this, ran) == n) {
                Thread w = waiter;
                if (w != null) LockSupport.unpark(w);
            }
        }
    }

    private static final class Pool {
        final AtomicBoolean busy = new AtomicBoolean();
        final Worker[] workers;
        volatile Job current;
        volatile boolean stopped;
        long jobs; // ids of the jobs handed out so far; written only by the thread holding busy

        Pool(int size) {
            workers = new Worker[size];
            for (int w = 0; w < size; w++) {
                workers[w] = new Worker(this);
                workers[w].setName("behemoth-worker-" + (w + 1));
                workers[w].setDaemon(true);
                workers[w].start();
            }
        }

        void run(Job job) {
            current = job;
            for (Worker w : workers) if (w.sleeping) LockSupport.unpark(w);
            job.finished(job.work());
            long start = System.nanoTime();
            while (job.done < job.n) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                } else {
                    job.waiter = Thread.currentThread();
                    if (job.done < job.n) LockSupport.park(this);
                }
            }
            current = null;
            Throwable t = job.failure;
            if (t instanceof RuntimeException r) throw r;
            if (t instanceof Error e) throw e;
            if (t != null) throw new RuntimeException(t);
        }

        void shutdown() {
            stopped = true;
            for (Worker w : workers) LockSupport.unpark(w);
        }
    }

    private static final class Worker extends Thread {
        final Pool pool;
        volatile boolean sleeping;

        Worker(Pool pool) {
            this.pool = pool;
        }

        @Override
        public void run() {
            long last = 0; // the id of the last job this worker joined
            while (!pool.stopped) {
                Job job = pool.current;
                if (job != null && job.id != last) {
                    last = job.id;
                    job.finished(job.work());
                    continue;
                }
                long start = System.nanoTime();
                while ((job = pool.current) == null || job.id == last) {
                    if (pool.stopped) return;
                    if (System.nanoTime() - start < SPIN_NANOS) {
                        Thread.onSpinWait();
                    } else {
                        sleeping = true;
                        job = pool.current;
                        if ((job == null || job.id == last) && !pool.stopped) LockSupport.park(this);
                        sleeping = false;
                    }
                }
            }
        }
    }
}
