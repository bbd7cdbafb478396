package ai.behemoth.cli;

import ai.behemoth.data.BundledCorpus;
import ai.behemoth.tokenizer.BpeTokenizer;
import ai.behemoth.tokenizer.Tokenizer;
import ai.behemoth.tokenizer.Tokenizers;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * {@code behemoth bench tokenizer}: BPE training time and encoding throughput on the bundled
 * corpus, on this thread only. Each run trains a fresh tokenizer and encodes the whole corpus with a
 * freshly loaded copy (an empty pre-token cache: "cold"), then encodes it again ("warm"). One
 * untimed run first lets the JIT compile the code.
 */
@Command(name = "tokenizer", mixinStandardHelpOptions = true,
        description = "Time BPE training (vocabulary 4096) and encoding (MB/s) on the bundled corpus, one thread; median of runs.")
public final class BenchTokenizerCommand implements Callable<Integer> {
    @Option(names = "--vocab", defaultValue = "4096", description = "Vocabulary size to train (default ${DEFAULT-VALUE}).")
    int vocab;

    @Option(names = "--runs", defaultValue = "5", description = "Timed runs; the median is reported (default ${DEFAULT-VALUE}).")
    int runs;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        if (runs < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--runs must be at least 1, not " + runs);
        PrintWriter out = spec.commandLine().getOut();
        String corpus = BundledCorpus.shakespeare();
        double megabytes = corpus.getBytes(StandardCharsets.UTF_8).length / 1e6;
        // Wall-clock and this thread's CPU time: on a shared machine the CPU time is the steadier figure.
        double[] trainSeconds = new double[runs], trainCpuSeconds = new double[runs];
        double[] coldMbPerSecond = new double[runs], coldCpuMbPerSecond = new double[runs];
        double[] warmMbPerSecond = new double[runs], warmCpuMbPerSecond = new double[runs];
        int tokens = 0;
        int vocabSize = 0;
        Path file = Files.createTempFile("behemoth-bench-", ".tokenizer.json");
        try {
            for (int run = -1; run < runs; run++) { // run -1 warms up the JIT and is not counted
                Stopwatch train = new Stopwatch();
                BpeTokenizer trained = BpeTokenizer.train(corpus, vocab);
                train.stop();
                trained.save(file);
                Tokenizer fresh = Tokenizers.load(file.toString());
                Stopwatch cold = new Stopwatch();
                tokens = fresh.encode(corpus).length;
                cold.stop();
                Stopwatch warm = new Stopwatch();
                fresh.encode(corpus);
                warm.stop();
                vocabSize = trained.vocabSize();
                out.printf("%s: train %.2f s (cpu %.2f s), encode %.1f MB/s (cpu %.1f) with the cache cold, %.1f MB/s (cpu %.1f) warm%n",
                        run < 0 ? "warm-up" : "run " + (run + 1), train.wall, train.cpu,
                        megabytes / cold.wall, megabytes / cold.cpu, megabytes / warm.wall, megabytes / warm.cpu);
                out.flush();
                if (run < 0) continue;
                trainSeconds[run] = train.wall;
                trainCpuSeconds[run] = train.cpu;
                coldMbPerSecond[run] = megabytes / cold.wall;
                coldCpuMbPerSecond[run] = megabytes / cold.cpu;
                warmMbPerSecond[run] = megabytes / warm.wall;
                warmCpuMbPerSecond[run] = megabytes / warm.cpu;
            }
        } finally {
            Files.deleteIfExists(file);
        }
        ObjectNode result = new ObjectMapper().createObjectNode()
                .put("bench", "tokenizer")
                .put("corpus", BundledCorpus.NAME)
                .put("corpus_bytes", Math.round(megabytes * 1e6))
                .put("threads", 1)
                .put("runs", runs)
                .put("vocab", vocabSize)
                .put("tokens", tokens)
                .put("bytes_per_token", Math.round(megabytes * 1e6 / tokens * 1000) / 1000.0)
                .put("train_seconds_median", round(median(trainSeconds)))
                .put("train_cpu_seconds_median", round(median(trainCpuSeconds)))
                .put("encode_cold_mb_per_s_median", round(median(coldMbPerSecond)))
                .put("encode_cold_cpu_mb_per_s_median", round(median(coldCpuMbPerSecond)))
                .put("encode_warm_mb_per_s_median", round(median(warmMbPerSecond)))
                .put("encode_warm_cpu_mb_per_s_median", round(median(warmCpuMbPerSecond)));
        out.println(result);
        return 0;
    }

    /** Seconds of wall-clock time and of this thread's CPU time. */
    private static final class Stopwatch {
        private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
        private final long wallStart = System.nanoTime(), cpuStart = THREADS.getCurrentThreadCpuTime();
        double wall, cpu;

        void stop() {
            wall = (System.nanoTime() - wallStart) / 1e9;
            cpu = (THREADS.getCurrentThreadCpuTime() - cpuStart) / 1e9;
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }
}
