package ai.behemoth.cli;

import ai.behemoth.cost.TrainingFlops;
import ai.behemoth.data.BundledCorpus;
import ai.behemoth.model.ModelConfig;
import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.Peak;
import ai.behemoth.tensor.ProcessMemory;
import ai.behemoth.tokenizer.ByteTokenizer;
import ai.behemoth.train.AdamW;
import ai.behemoth.train.Batches;
import ai.behemoth.train.ParameterLayout;
import ai.behemoth.train.TrainOptions;
import ai.behemoth.train.Transformer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.concurrent.Callable;

/** {@code behemoth bench train}: the speed of full training steps (forward, backward, clipping, AdamW). */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time full training steps on the bundled Shakespeare (byte tokens) and report the median "
                + "tokens/s, GFLOP/s and MFU.",
                "FLOPs per token = 6·N + 12·L·T·D (PaLM, appendix B): N the active matrix parameters "
                        + "(attention, dense FFNs, router, top-k routed experts, shared expert, output head; not the "
                        + "embedding lookup or norm weights), L layers, T the context, D = heads·head_dim.",
                "MFU = achieved GFLOP/s / the machine's peak FMA GFLOP/s on the same threads (behemoth bench peak)."})
public final class BenchTrainCommand implements Callable<Integer> {
    @Mixin
    ModelFlags model = new ModelFlags();

    @Mixin
    BalanceFlags balance = new BalanceFlags();

    @Option(names = "--batch", paramLabel = "N", description = "Sequences per step (default: ${DEFAULT-VALUE}).")
    int batch = 16;

    @Option(names = "--steps", paramLabel = "N", description = "Timed steps (default: ${DEFAULT-VALUE}).")
    int steps = 10;

    @Option(names = "--warmup-steps", paramLabel = "N",
            description = "Untimed steps first, for the JIT, and then more (up to " + EXTRA_WARMUP_STEPS + ") until a step allocates under "
                    + SETTLED_BYTES_PER_STEP / (1 << 20) + " MB; 0 for none (default: ${DEFAULT-VALUE}).")
    int warmupSteps = 3;

    // Code the JIT has not compiled yet allocates every vector it makes (about 100 MB a step at
    // first); compiled, a step allocates well under a megabyte. Three fixed warm-up steps sometimes
    // left the first timed steps still compiling (23 MB a step over 30 timed steps in one run).
    private static final long SETTLED_BYTES_PER_STEP = 1 << 20;
    private static final int EXTRA_WARMUP_STEPS = 50;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--threads", paramLabel = "N", description = "Worker threads (default: all cores).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--seed", paramLabel = "N", description = "Seed of the weights and batches (default: ${DEFAULT-VALUE}).")
    long seed = 1337;

    @Override
    public Integer call() throws Exception {
        if (steps < 1) throw new IllegalArgumentException("--steps must be at least 1, got " + steps);
        if (warmupSteps < 0) throw new IllegalArgumentException("--warmup-steps must not be negative, got " + warmupSteps);
        int vocab = model.config != null ? ModelConfig.read(model.config).vocabSize() : new ByteTokenizer().vocabSize();
        ModelConfig config = model.resolve(vocab);
        TrainOptions.Builder ob = TrainOptions.DEFAULTS.toBuilder();
        ob.batch = batch;
        ob.threads = threads;
        ob.seed = seed;
        ob.steps = warmupSteps + EXTRA_WARMUP_STEPS + steps;
        ob.warmup = 0;
        balance.applyTo(ob);
        TrainOptions options = ob.build();

        Parallel.setThreads(threads);
        int[] stream = new ByteTokenizer().encode(BundledCorpus.shakespeare());
        for (int i = 0; i < stream.length; i++) stream[i] %= vocab;
        Batches batches = new Batches(batch, config.context());
        Transformer t = new Transformer(config, options.balancing(), batch, config.context());
        t.initialize(seed);
        AdamW adam = new AdamW(t.layout(), options.beta1(), options.beta2(), options.weightDecay());

        // CPU time of the whole process as well as wall time: on a shared machine the wall clock
        // measures the neighbours too, while CPU seconds per step stay close to the unloaded figure.
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        double[] seconds = new double[steps], cpuSeconds = new double[steps];
        long allocated = HeapAllocation.allocatedBytes() < 0 ? -1 : 0; // heap bytes of the timed steps, every thread
        int warmups = 0, timed = 0;
        boolean warming = warmupSteps > 0; // 0 asks for none at all
        for (int s = 1; timed < steps; s++) {
            long t0 = System.nanoTime(), cpu0 = os.getProcessCpuTime(), a0 = HeapAllocation.allocatedBytes();
            Batches.Batch b = batches.train(stream, seed, s);
            t.zeroGrads();
            t.forward(b.tokens(), b.targets(), b.batch(), b.seq());
            t.backward();
            adam.clip(t.grads(), options.gradClip());
            adam.step(t.params(), t.grads(), s, options.lr());
            long stepBytes = a0 < 0 ? -1 : HeapAllocation.allocatedBytes() - a0;
            if (warming) {
                warmups++;
                warming = warmups < warmupSteps
                        || (stepBytes >= SETTLED_BYTES_PER_STEP && warmups < warmupSteps + EXTRA_WARMUP_STEPS);
                continue;
            }
            seconds[timed] = (System.nanoTime() - t0) / 1e9;
            cpuSeconds[timed] = (os.getProcessCpuTime() - cpu0) / 1e9;
            if (allocated >= 0) allocated += stepBytes;
            timed++;
        }
        var memory = ProcessMemory.read(); // before the peak FLOP/s measurement below adds its own
        double[] sorted = seconds.clone();
        Arrays.sort(sorted);
        double median = median(seconds), cpuMedian = median(cpuSeconds);
        long tokensPerStep = (long) batch * config.context();
        double tokensPerS = tokensPerStep / median;
        double flopsPerToken = TrainingFlops.perToken(config, config.context());
        double gflops = tokensPerS * flopsPerToken / 1e9;

        PrintWriter out = spec.commandLine().getOut();
        out.printf("model       %,d parameters, %,d active matrix parameters per token; %d layers, dim %d, %d experts top-%d%n",
                new ParameterLayout(config).size(), TrainingFlops.activeMatrixParams(config), config.layers(), config.dim(), config.experts(), config.topK());
        out.printf("steps       batch %d × ctx %d = %,d tokens; %d threads; %d warmup + %d timed steps%n",
                batch, config.context(), tokensPerStep, threads, warmups, steps);
        out.printf("step time   median %.1f ms (min %.1f, max %.1f)%n", median * 1e3, sorted[0] * 1e3, sorted[sorted.length - 1] * 1e3);
        out.printf("CPU time    median %.1f ms per step (all threads; %.2f cores busy)%n", cpuMedian * 1e3, cpuMedian / median);
        out.printf("tokens/s    %,.0f (per CPU-second: %,.0f)%n", tokensPerS, tokensPerStep / cpuMedian);
        out.printf("FLOPs/token %.3f MFLOP (6·N + 12·L·T·D)%n", flopsPerToken / 1e6);
        out.printf("GFLOP/s     %.2f%n", gflops);
        if (allocated >= 0) out.printf("allocated   %.1f KB per step (all threads, timed steps)%n", allocated / 1024.0 / steps);
        long paramBytes = (long) t.layout().size() * Float.BYTES;
        memory.ifPresentOrElse(m -> out.printf(
                "memory      %s; weights %.1f MB (F32), with gradients and AdamW moments %.1f MB: peak / weights = %.2f%n",
                m.describe(), ProcessMemory.mb(paramBytes), ProcessMemory.mb(4 * paramBytes), (double) m.peakRssBytes() / paramBytes),
                () -> out.println("memory      peak RSS not measured (no /proc/self/status: not Linux)"));
        try {
            double peak = Peak.fmaGflops(threads);
            out.printf("MFU         %.1f%% of %.1f GFLOP/s peak FMA on %d threads%n", 100 * gflops / peak, peak, threads);
        } catch (RuntimeException e) {
            out.printf("MFU         unavailable: the machine's peak could not be measured (%s)%n", e.getMessage());
        }
        out.flush();
        return 0;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
