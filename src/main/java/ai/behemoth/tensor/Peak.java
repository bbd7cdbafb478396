package ai.behemoth.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.concurrent.CyclicBarrier;
import java.util.function.IntToDoubleFunction;

/**
 * The machine's measured limits, the denominator of every MFU figure.
 *
 * <p>A trial runs one dedicated thread per requested thread (not the {@link Parallel} pool, so a
 * measurement does not change its size), released together at a barrier. Each thread's work is
 * divided by the CPU time it was given, not by wall time: the figure is what the cores do while
 * they run, and other processes sharing the machine (a busy build, other jobs) do not lower it.
 * With more threads than processors the CPU time is shared out over the processors, so the figure
 * never exceeds what the processors can do together. Each figure is the best of several trials.
 */
public final class Peak {
    private Peak() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Seconds each thread runs in one FMA trial. */
    private static final double FMA_TRIAL_SECONDS = 0.1;
    private static final int TRIALS = 5;
    /** Bytes each memory trial reads: far beyond any cache of the machines this runs on. */
    private static final long MEMORY_BYTES = 256L << 20;
    private static final int MEMORY_PASSES = 3;
    private static final ThreadMXBean CLOCK = ManagementFactory.getThreadMXBean();
    private static volatile double sink; // keeps the JIT from discarding the work
    private static boolean warm; // guarded by Peak.class

    /** Sustained float32 FMA throughput in GFLOP/s (2 FLOPs per FMA) on {@code threads} threads. */
    public static double fmaGflops(int threads) {
        checkThreads(threads);
        warmUp();
        return bestRate(threads, t -> fmaTrial()) / 1e9;
    }

    /** Sustained memory read bandwidth in GB/s on {@code threads} threads. */
    public static double memoryGBs(int threads) {
        checkThreads(threads);
        warmUp();
        int perThread = (int) (MEMORY_BYTES / Float.BYTES / threads / S.length() * S.length());
        float[][] buffers = new float[threads][perThread];
        for (float[] b : buffers) java.util.Arrays.fill(b, 1f); // touch every page before timing
        return bestRate(threads, t -> {
            for (int pass = 0; pass < MEMORY_PASSES; pass++) sink += sum(buffers[t]);
            return (double) MEMORY_PASSES * perThread * Float.BYTES;
        }) / 1e9;
    }

    private static void checkThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
    }

    /**
     * Runs {@code trial} (returning the work done: FLOPs or bytes) on {@code threads} threads
     * together, {@link #TRIALS} times; returns the best work per second of processor time.
     */
    private static double bestRate(int threads, IntToDoubleFunction trial) {
        double best = 0;
        for (int i = 0; i < TRIALS; i++) {
            double[] work = new double[threads], cpuSeconds = new double[threads];
            CyclicBarrier start = new CyclicBarrier(threads);
            Thread[] workers = new Thread[threads];
            Throwable[] failure = new Throwable[1];
            for (int t = 0; t < threads; t++) {
                int id = t;
                workers[t] = new Thread(() -> {
                    try {
                        start.await();
                        long begin = CLOCK.getCurrentThreadCpuTime();
                        work[id] = trial.applyAsDouble(id);
                        cpuSeconds[id] = (CLOCK.getCurrentThreadCpuTime() - begin) / 1e9;
                    } catch (Throwable e) {
                        failure[0] = e;
                    }
                }, "behemoth-peak-" + t);
                workers[t].start();
            }
            for (Thread w : workers) {
                try {
                    w.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("peak measurement interrupted", e);
                }
            }
            if (failure[0] != null) throw new IllegalStateException("peak measurement failed: " + failure[0], failure[0]);
            double totalWork = 0, totalCpu = 0;
            for (int t = 0; t < threads; t++) {
                totalWork += work[t];
                totalCpu += cpuSeconds[t];
            }
            int processors = Math.min(threads, Runtime.getRuntime().availableProcessors());
            best = Math.max(best, totalWork / (totalCpu / processors));
        }
        return best;
    }

    /** Runs twelve independent FMA chains for {@link #FMA_TRIAL_SECONDS} of wall time; returns the FLOPs done. */
    private static double fmaTrial() {
        final int rounds = 4096; // FMA rounds between clock reads
        long calls = 0, end = System.nanoTime() + (long) (FMA_TRIAL_SECONDS * 1e9);
        float keep = 0;
        do {
            keep += fmaBurst(rounds);
            calls++;
        } while (System.nanoTime() < end);
        sink += keep;
        return calls * rounds * 12.0 * S.length() * 2;
    }

    /** {@code rounds} steps of twelve independent chains c = c·x + y; small and called often, so the JIT compiles it early. */
    private static float fmaBurst(int rounds) {
        FloatVector x = FloatVector.broadcast(S, 0.999f), y = FloatVector.broadcast(S, 0.001f);
        FloatVector c0 = FloatVector.broadcast(S, 1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        FloatVector c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (int i = 0; i < rounds; i++) {
            c0 = c0.fma(x, y); c1 = c1.fma(x, y); c2 = c2.fma(x, y); c3 = c3.fma(x, y);
            c4 = c4.fma(x, y); c5 = c5.fma(x, y); c6 = c6.fma(x, y); c7 = c7.fma(x, y);
            c8 = c8.fma(x, y); c9 = c9.fma(x, y); c10 = c10.fma(x, y); c11 = c11.fma(x, y);
        }
        FloatVector all = c0.add(c1).add(c2).add(c3).add(c4).add(c5).add(c6).add(c7).add(c8).add(c9).add(c10).add(c11);
        return all.reduceLanes(VectorOperators.ADD);
    }

    /** Runs both measured loops on small inputs until the JIT has compiled them, so no trial times the interpreter. */
    private static synchronized void warmUp() {
        if (warm) return;
        float keep = 0;
        float[] small = new float[1 << 12];
        for (int i = 0; i < 20_000; i++) {
            keep += fmaBurst(64);
            keep += sum(small);
        }
        sink += keep;
        warm = true;
    }

    /** Reads every float of {@code x} once, four vector accumulators deep. */
    private static float sum(float[] x) {
        FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
        int step = 4 * S.length(), i = 0;
        for (; i + step <= x.length; i += step) {
            s0 = s0.add(FloatVector.fromArray(S, x, i));
            s1 = s1.add(FloatVector.fromArray(S, x, i + S.length()));
            s2 = s2.add(FloatVector.fromArray(S, x, i + 2 * S.length()));
            s3 = s3.add(FloatVector.fromArray(S, x, i + 3 * S.length()));
        }
        float rest = 0;
        for (; i < x.length; i++) rest += x[i];
        return s0.add(s1).add(s2).add(s3).reduceLanes(VectorOperators.ADD) + rest;
    }
}
