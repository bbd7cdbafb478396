package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.Presets;
import ai.behemoth.tensor.Parallel;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Forward + backward throughput of the whole training model on random byte tokens (not a test:
 * run by hand). The default is the reference configuration: the {@code tiny} preset
 * (4 layers, dim 128, 4 heads, 8 experts top-2, expert hidden 256), batch 16 × 128, Switch aux
 * loss 0.01 and z-loss 0.001.
 *
 * <pre>
 * java --add-modules jdk.incubator.vector -cp target/classes:target/test-classes:JACKSON_JARS \
 *      ai.behemoth.train.TransformerBench [preset] [batch] [seq] [threads] [reps]
 * </pre>
 */
public final class TransformerBench {
    private TransformerBench() {}

    public static void main(String[] args) {
        String preset = args.length > 0 ? args[0] : "tiny";
        int batch = arg(args, 1, 16), seq = arg(args, 2, 128), threads = arg(args, 3, Parallel.threads()), reps = arg(args, 4, 9);
        Parallel.setThreads(threads);
        ModelConfig config = Presets.get(preset, 256);
        Transformer model = new Transformer(config, new Balance(Balance.Mode.AUX, 0.01, 0.001, 0), batch, seq);
        model.initialize(1337);
        SplittableRandom random = new SplittableRandom(1);
        int[] tokens = new int[batch * seq], targets = new int[batch * seq];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = random.nextInt(256);
            targets[i] = random.nextInt(256);
        }
        // process CPU time too: on a shared machine wall time includes waiting for a core
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        double[] forwardMs = new double[reps], backwardMs = new double[reps], cpuMs = new double[reps];
        for (int rep = -3; rep < reps; rep++) {
            long cpu0 = os.getProcessCpuTime();
            long t0 = System.nanoTime();
            model.forward(tokens, targets, batch, seq);
            long t1 = System.nanoTime();
            model.zeroGrads();
            model.backward();
            long t2 = System.nanoTime();
            long cpu1 = os.getProcessCpuTime();
            if (rep < 0) continue;
            cpuMs[rep] = (cpu1 - cpu0) / 1e6;
            forwardMs[rep] = (t1 - t0) / 1e6;
            backwardMs[rep] = (t2 - t1) / 1e6;
        }
        double f = median(forwardMs), b = median(backwardMs), cpu = Arrays.stream(cpuMs).sum() / reps;
        System.out.printf("%s, batch %d × %d, %d threads: forward %.1f ms, backward %.1f ms (medians of %d), %.0f tokens/s;"
                        + " %.1f CPU-ms per step (mean: the process clock ticks coarsely), %.0f tokens per CPU-second%n",
                preset, batch, seq, threads, f, b, reps, batch * seq / ((f + b) / 1e3), cpu, batch * seq / (cpu / 1e3));
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static int arg(String[] args, int i, int fallback) {
        return args.length > i ? Integer.parseInt(args[i]) : fallback;
    }
}
