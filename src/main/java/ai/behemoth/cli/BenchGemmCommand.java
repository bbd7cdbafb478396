package ai.behemoth.cli;

import ai.behemoth.tensor.MatMul;
import ai.behemoth.tensor.MatMulScalar;
import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.Peak;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/** {@code behemoth bench gemm}: GFLOP/s of the three training matrix products, against the FMA peak. */
@Command(name = "gemm", mixinStandardHelpOptions = true,
        description = "Measure MatMul GFLOP/s (A·Bᵀ, A·B, Aᵀ·B) on large cubes and training shapes, median of several runs, and %% of the FMA peak.")
public final class BenchGemmCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Large cubes, then the tiny preset's training shapes (tokens × in × out, a weight gradient over 2048 tokens) and attention's per-head products. */
    static final String DEFAULT_SIZES = "512,1024,2048,2048x128x128,2048x128x512,512x128x256,512x256x128,2048x128x256,384x2048x128,128x32x128,128x128x32";

    @Option(names = "--threads", paramLabel = "N", description = "Threads (default: all processors).")
    Integer threads;

    @Option(names = "--sizes", paramLabel = "S", split = ",", description = "Shapes: N for an N×N×N cube or MxKxN (default: " + DEFAULT_SIZES + ").")
    List<String> sizes;

    @Option(names = "--runs", paramLabel = "R", defaultValue = "7", description = "Timed runs per shape; the median is reported (default: ${DEFAULT-VALUE}).")
    int runs;

    @Option(names = "--min-time", paramLabel = "SECONDS", defaultValue = "0.1", description = "Each run repeats the product for at least this long (default: ${DEFAULT-VALUE}).")
    double minTime;

    record Shape(int m, int k, int n) {
        static Shape parse(String text) {
            String[] parts = text.trim().toLowerCase().split("x");
            try {
                int[] v = Arrays.stream(parts).mapToInt(Integer::parseInt).toArray();
                if (v.length == 1) v = new int[]{v[0], v[0], v[0]};
                if (v.length == 3 && v[0] > 0 && v[1] > 0 && v[2] > 0
                        && Math.max((long) v[0] * v[1], Math.max((long) v[1] * v[2], (long) v[0] * v[2])) <= Integer.MAX_VALUE - 8) {
                    return new Shape(v[0], v[1], v[2]);
                }
            } catch (NumberFormatException ignored) {
                // falls through to the error below
            }
            throw new IllegalArgumentException("--sizes: '" + text + "' is not N or MxKxN with positive integers (each matrix under 2^31 floats)");
        }

        double flops() {
            return 2.0 * m * k * n;
        }

        @Override
        public String toString() {
            return m + "x" + k + "x" + n;
        }
    }

    /** One of the three products, called on arrays laid out for it. */
    interface Product {
        void run(float[] out, float[] a, float[] b, Shape s);
    }

    @Override
    public void run() {
        if (runs < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--runs must be at least 1, got " + runs);
        if (threads != null && threads < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be at least 1, got " + threads);
        List<Shape> shapes = new ArrayList<>();
        for (String s : sizes != null ? sizes : List.of(DEFAULT_SIZES.split(","))) {
            try {
                shapes.add(Shape.parse(s));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        int saved = Parallel.threads();
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        Parallel.setThreads(n);
        try {
            report(shapes, n, spec.commandLine().getOut());
        } finally {
            Parallel.setThreads(saved);
        }
    }

    private void report(List<Shape> shapes, int threads, PrintWriter out) {
        double peak = Peak.fmaGflops(threads), corePeak = threads == 1 ? peak : Peak.fmaGflops(1);
        out.printf("threads %d, FMA peak %.1f GFLOP/s (%.1f on one core), load average %.2f; median of %d runs (min..max)%n",
                threads, peak, corePeak, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage(), runs);
        out.printf("'per core-s' is GFLOP per second of process CPU time, against one core's peak: the kernels' efficiency%n"
                + "while they run, whatever share of the cores other processes take (time spent spinning for work counts)%n");
        out.printf("%-6s %-16s %10s %20s %8s %12s %8s%n", "form", "MxKxN", "GFLOP/s", "min..max", "% peak", "per core-s", "% core");
        Product[] products = {
                (o, a, b, s) -> MatMul.abT(o, 0, a, 0, b, 0, s.m, s.k, s.n, false),
                (o, a, b, s) -> MatMul.ab(o, 0, a, 0, b, 0, s.m, s.k, s.n, false),
                (o, a, b, s) -> MatMul.aTb(o, 0, a, 0, b, 0, s.m, s.k, s.n, false),
        };
        String[] names = {"abT", "ab", "aTb"};
        warmUp(products);
        for (Shape s : shapes) {
            for (int f = 0; f < products.length; f++) {
                Result r = measure(products[f], s);
                double[] g = r.wall;
                out.printf("%-6s %-16s %10.1f %9.1f..%-9.1f %7.1f%% %12.1f %7.1f%%%n", names[f], s, g[runs / 2], g[0], g[runs - 1],
                        100 * g[runs / 2] / peak, r.perCpu[runs / 2], 100 * r.perCpu[runs / 2] / corePeak);
                out.flush();
            }
        }
        Shape ratioShape = new Shape(256, 256, 256);
        double fast = measure(products[0], ratioShape).perCpu[runs / 2];
        double scalar = measure((o, a, b, s) -> MatMulScalar.abT(o, 0, a, 0, b, 0, s.m, s.k, s.n, false), ratioShape).perCpu[runs / 2];
        out.printf("scalar twin abT %s: %.2f GFLOP per core-s; MatMul %.1f, %.0fx faster%n",
                ratioShape, scalar, fast, fast / scalar);
        out.printf("Parallel.forRange(%d indices of 2.00 us work each): %.2f us a call, median (2.00 if free)%n", threads, forRangeMicros(threads));
        out.flush();
    }

    /**
     * Runs every product until the JIT has compiled the kernels: interpreted, the Vector API is a
     * thousand times slower, and a short first run would still be timing the compiler.
     */
    private static void warmUp(Product[] products) {
        Shape full = new Shape(128, 300, 256), edges = new Shape(37, 29, 45);
        float[] a = new float[full.m * full.k], b = new float[full.k * full.n], o = new float[full.m * full.n];
        long end = System.nanoTime() + 3_000_000_000L;
        while (System.nanoTime() < end) {
            for (Product p : products) {
                p.run(o, a, b, full);
                p.run(o, a, b, edges);
            }
        }
    }

    /** The median time of a forRange call giving each thread 2 us of work: beyond 2 us is what the pool costs. */
    private double forRangeMicros(int threads) {
        int calls = 20_000;
        double[] micros = new double[runs];
        for (int r = -1; r < runs; r++) {
            long begin = System.nanoTime();
            for (int c = 0; c < calls; c++) {
                Parallel.forRange(threads, i -> {
                    long until = System.nanoTime() + 2_000;
                    while (System.nanoTime() < until) Thread.onSpinWait();
                });
            }
            if (r >= 0) micros[r] = (System.nanoTime() - begin) / 1e3 / calls;
        }
        Arrays.sort(micros);
        return micros[runs / 2];
    }

    /** GFLOP/s of each timed run by wall time, and GFLOP per second of process CPU time; each sorted. */
    record Result(double[] wall, double[] perCpu) {}

    /** Times {@link #runs} runs; one untimed run first warms the JIT and the caches. */
    private Result measure(Product product, Shape s) {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        Random rng = new Random(1);
        float[] a = new float[s.m * s.k], b = new float[s.k * s.n], o = new float[s.m * s.n];
        for (int i = 0; i < a.length; i++) a[i] = rng.nextFloat() - 0.5f;
        for (int i = 0; i < b.length; i++) b[i] = rng.nextFloat() - 0.5f;
        double[] wall = new double[runs], perCpu = new double[runs];
        for (int r = -1; r < runs; r++) {
            long begin = System.nanoTime(), cpuBegin = os.getProcessCpuTime(), elapsed;
            int reps = 0;
            do {
                product.run(o, a, b, s);
                reps++;
                elapsed = System.nanoTime() - begin;
            } while (elapsed < minTime * 1e9);
            long cpu = os.getProcessCpuTime() - cpuBegin;
            if (r >= 0) {
                wall[r] = reps * s.flops() / elapsed;
                perCpu[r] = reps * s.flops() / Math.max(cpu, 1);
            }
        }
        Arrays.sort(wall);
        Arrays.sort(perCpu);
        return new Result(wall, perCpu);
    }
}
