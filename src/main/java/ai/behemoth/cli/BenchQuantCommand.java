package ai.behemoth.cli;

import ai.behemoth.tensor.Peak;
import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Quant;
import ai.behemoth.tensor.quant.QuantScalar;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * {@code behemoth bench quant}: single-thread throughput of the quantised matrix-vector product
 * ({@link Quant#dotRows}, the decode kernel) for each tensor type, in GB/s of weight bytes read: per
 * second of wall-clock time, and per second of the thread's CPU time, the latter also as a share of
 * one thread's streaming-read bandwidth ({@link Peak#memoryGBs}), the limit a matrix larger than the
 * caches runs into.
 */
@Command(name = "quant", mixinStandardHelpOptions = true,
        description = "Single-thread matrix-vector throughput per tensor type (GB/s of weight bytes, and %% of memory bandwidth).")
public final class BenchQuantCommand implements Runnable {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    @Option(names = "--types", split = ",", description = "Types to measure (default: all).")
    List<GgmlType> types;

    @Option(names = "--row", defaultValue = "4096", description = "Values per row; a multiple of 256 (default: ${DEFAULT-VALUE}).")
    int row;

    @Option(names = "--mib", defaultValue = "64", description = "Weight bytes per type, in MiB; larger than the caches measures memory (default: ${DEFAULT-VALUE}).")
    int mib;

    @Option(names = "--runs", defaultValue = "5", description = "Timed runs of at least 0.2 s each; the median is reported (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--peak", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Measure one thread's memory read bandwidth first and give each type's GB/cpu-s as a share of it (default: on).")
    boolean peak;

    @Option(names = "--scalar", description = "Measure the plain scalar twin instead of the Vector API kernels.")
    boolean scalar;

    @Option(names = "--warmup", defaultValue = "3", description = "Least seconds of warm-up per type, for the JIT (default: ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        if (row <= 0 || row % 256 != 0) throw new IllegalArgumentException("--row must be a positive multiple of 256, got " + row);
        if (mib <= 0 || runs <= 0 || warmupSeconds < 0) throw new IllegalArgumentException("--mib and --runs must be positive, --warmup not negative");
        PrintWriter out = spec.commandLine().getOut();
        double bandwidth = peak ? Peak.memoryGBs(1) : Double.NaN;
        if (peak) out.printf("memory read bandwidth, 1 thread: %.1f GB/s%n", bandwidth);
        out.printf("%-5s %8s %10s %10s %12s %10s %8s%n", "type", "rows", "MiB", "GB/s", "Gvalues/s", "GB/cpu-s", "of-peak");
        for (GgmlType type : types != null ? types : List.of(GgmlType.values())) measure(type, bandwidth, out);
        out.flush();
    }

    /** One row of the table; {@code bandwidth} is NaN when it was not measured (the share prints as "-"). */
    private void measure(GgmlType type, double bandwidth, PrintWriter log) {
        long rowBytes = type.rowBytes(row);
        int rows = (int) Math.max(1, ((long) mib << 20) / rowBytes);
        Random rng = new Random(1);
        float[] x = new float[row];
        for (int i = 0; i < row; i++) x[i] = (float) rng.nextGaussian();
        try (Arena arena = Arena.ofShared()) {
            MemorySegment weights = arena.allocate(rowBytes * rows, 64);
            fill(type, weights, rows, rowBytes, rng);
            float[] out = new float[rows];
            warmUp(type, weights, rows, rowBytes, x, out);
            double[] wall = new double[runs], cpu = new double[runs];
            for (int r = 0; r < runs; r++) {
                double[] t = timedPasses(type, weights, rows, rowBytes, x, out, 0.2);
                wall[r] = t[0];
                cpu[r] = t[1];
            }
            Arrays.sort(wall);
            Arrays.sort(cpu);
            double bytes = (double) rowBytes * rows;
            double cpuGBs = bytes / cpu[runs / 2] * 1e-9;
            String share = Double.isNaN(bandwidth) ? "-" : String.format("%.0f%%", 100 * cpuGBs / bandwidth);
            log.printf("%-5s %8d %10.1f %10.2f %12.2f %10.2f %8s%n", type, rows, bytes / 1048576.0,
                    bytes / wall[runs / 2] * 1e-9, (double) row * rows / wall[runs / 2] * 1e-9, cpuGBs, share);
        }
    }

    /**
     * Runs until the JIT has compiled the Vector API kernels: interpreted or C1 code is a hundred
     * times slower, and on a busy machine C2 can take seconds. At least {@code --warmup} seconds,
     * then until a run is no more than 5% slower than the best so far, twice in a row (at most 20 s).
     */
    private void warmUp(GgmlType type, MemorySegment weights, int rows, long rowBytes, float[] x, float[] out) {
        double best = Double.MAX_VALUE;
        int steady = 0;
        long start = System.nanoTime();
        while ((steady < 2 || System.nanoTime() - start < warmupSeconds * 1e9) && System.nanoTime() - start < 20e9) {
            double t = timedPasses(type, weights, rows, rowBytes, x, out, 0.25)[0];
            steady = t <= best * 1.05 ? steady + 1 : 0;
            best = Math.min(best, t);
        }
    }

    /**
     * Runs whole passes over the matrix for at least {@code minSeconds}; returns the wall-clock and
     * the thread's CPU seconds per pass (on a shared machine the second is the steadier figure).
     */
    private double[] timedPasses(GgmlType type, MemorySegment weights, int rows, long rowBytes, float[] x, float[] out, double minSeconds) {
        long t0 = System.nanoTime(), c0 = THREADS.getCurrentThreadCpuTime(), elapsed;
        int passes = 0;
        do {
            pass(type, weights, rows, rowBytes, x, out);
            passes++;
            elapsed = System.nanoTime() - t0;
        } while (elapsed < minSeconds * 1e9);
        return new double[]{elapsed * 1e-9 / passes, (THREADS.getCurrentThreadCpuTime() - c0) * 1e-9 / passes};
    }

    private void pass(GgmlType type, MemorySegment weights, int rows, long rowBytes, float[] x, float[] out) {
        if (scalar) {
            for (int r = 0; r < rows; r++) out[r] = QuantScalar.dot(type, weights, r * rowBytes, x, 0, row);
        } else {
            Quant.dotRows(type, weights, 0, rowBytes, rows, x, 0, row, out, 0);
        }
    }

    /** Rows quantised from random floats where Behemoth can quantise; random bytes with modest scales otherwise. */
    private void fill(GgmlType type, MemorySegment weights, int rows, long rowBytes, Random rng) {
        float[] values = new float[row];
        for (int r = 0; r < rows; r++) {
            long at = r * rowBytes;
            switch (type) {
                case Q4_K, Q5_K, Q6_K -> {
                    for (long i = 0; i < rowBytes; i++) weights.set(ValueLayout.JAVA_BYTE, at + i, (byte) rng.nextInt());
                    var half = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
                    for (long b = 0; b < rowBytes / type.blockBytes; b++) {
                        long block = at + b * type.blockBytes;
                        if (type != GgmlType.Q6_K) { // d and dmin lead Q4_K and Q5_K blocks
                            weights.set(half, block, Float.floatToFloat16(0.01f));
                            weights.set(half, block + 2, Float.floatToFloat16(0.01f));
                        } else {
                            weights.set(half, block + 208, Float.floatToFloat16(0.01f));
                        }
                    }
                }
                default -> {
                    for (int i = 0; i < row; i++) values[i] = (float) rng.nextGaussian();
                    Quant.quantize(type, values, 0, row, weights, at);
                }
            }
        }
    }
}
