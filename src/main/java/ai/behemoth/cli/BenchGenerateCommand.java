package ai.behemoth.cli;

import ai.behemoth.generate.LanguageModel;
import ai.behemoth.model.InferenceModel;
import ai.behemoth.model.Sequence;
import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.ProcessMemory;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code behemoth bench generate}: prompt processing (a prompt of random tokens, run in chunks) and
 * generation (greedy decode steps, one token at a time) in tokens per second, as the median (and
 * range) of several runs after untimed warm-up runs. Sampling is left out: this measures the engine.
 * Then the memory: the process's peak resident set (loading included) beside the bytes of weights
 * the engine reads and of the key/value cache the sequence allocated.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Measure prompt and generation tokens/s of a model (median of runs).")
public final class BenchGenerateCommand implements Callable<Integer> {

    @Mixin
    ModelOptions model;

    @Option(names = "--prompt-tokens", defaultValue = "64", paramLabel = "N", description = "Prompt length (default ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = "--gen-tokens", defaultValue = "32", paramLabel = "N", description = "Tokens to generate (default ${DEFAULT-VALUE}).")
    int genTokens;

    @Option(names = "--runs", defaultValue = "5", paramLabel = "N", description = "Timed runs; the median is reported (default ${DEFAULT-VALUE}).")
    int runs;

    // Warm-up is timed, not counted: a small model's few runs end before the JIT has compiled the
    // kernels, more so on a busy machine. And it lasts until two runs in a row take about the same
    // time: a GGUF of several K-quant types (Q4_K_M) has a dozen kernels to compile, and its first
    // runs took seconds each, so a fixed three seconds ended inside the JIT's work. Two slow runs can
    // agree too (a Q4_0 file's timed runs once began after three warm-up runs, still allocating 215 KB
    // a token, and measured a third of the speed), so the last run must also have allocated little:
    // code the JIT has not compiled allocates every vector, compiled decode next to nothing.
    @Option(names = "--warm-up", defaultValue = "3", paramLabel = "SECONDS",
            description = "Untimed runs for at least this long first, and then until two in a row take within 10%% of each other's time"
                    + " and the last allocated under " + SETTLED_BYTES_PER_TOKEN / 1024 + " KB a token (at most ten times as long),"
                    + " so that the JIT has compiled the kernels (default ${DEFAULT-VALUE}).")
    double warmUpSeconds;

    /** Heap bytes per token below which a warm-up run counts as compiled code (steady decode: about 1.7 KB). */
    private static final long SETTLED_BYTES_PER_TOKEN = 64 * 1024;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        CommandLine cli = spec.commandLine();
        if (runs < 1) throw new CommandLine.ParameterException(cli, "--runs must be at least 1, not " + runs);
        if (!(warmUpSeconds >= 0)) throw new CommandLine.ParameterException(cli, "--warm-up must be 0 or more seconds, not " + warmUpSeconds);
        if (promptTokens < 1 || genTokens < 1)
            throw new CommandLine.ParameterException(cli, "--prompt-tokens and --gen-tokens must be at least 1");
        PrintWriter out = cli.getOut();
        try (LanguageModel lm = model.load(cli)) {
            InferenceModel engine = lm.engine();
            int context = engine.config().context();
            if (promptTokens + genTokens > context)
                throw new CommandLine.ParameterException(cli, "--prompt-tokens + --gen-tokens = " + (promptTokens + genTokens)
                        + " exceeds the model's context of " + context);
            int vocab = lm.tokenizer().vocabSize();
            int[] prompt = new SplittableRandom(1).ints(promptTokens, 0, vocab).toArray();
            double[] promptRate = new double[runs], genRate = new double[runs];
            Sequence seq = engine.newSequence();
            long warmUpStart = System.nanoTime();
            long warmUpEnd = warmUpStart + (long) (warmUpSeconds * 1e9), warmUpLimit = warmUpStart + (long) (10 * warmUpSeconds * 1e9);
            int warmUps = 0;
            long previous = Long.MAX_VALUE; // the last warm-up run's time
            boolean settled = false;
            long allocated = HeapAllocation.allocatedBytes() < 0 ? -1 : 0; // heap bytes the timed runs allocate, in every thread
            for (int run = 0; run < runs; ) {
                seq.reset();
                long a0 = HeapAllocation.allocatedBytes();
                long t0 = System.nanoTime();
                float[] logits = engine.prefill(seq, prompt);
                long t1 = System.nanoTime();
                for (int i = 0; i < genTokens; i++) logits = engine.decode(seq, argmax(logits), logits);
                long t2 = System.nanoTime(), a1 = HeapAllocation.allocatedBytes();
                double p = promptTokens * 1e9 / (t1 - t0), g = genTokens * 1e9 / (t2 - t1);
                // a run that began inside the warm-up time is one of it, as is one that began before two runs agreed
                boolean warmUp = t0 < warmUpEnd || (!settled && t0 < warmUpLimit);
                out.printf("%s: prompt %.1f tokens/s, generation %.1f tokens/s%n", warmUp ? "warm-up" : "run " + (run + 1), p, g);
                out.flush();
                if (warmUp) {
                    warmUps++;
                    boolean compiled = a0 < 0 || a1 - a0 < SETTLED_BYTES_PER_TOKEN * (promptTokens + genTokens);
                    settled = Math.abs(t2 - t0 - previous) <= 0.1 * previous && compiled;
                    previous = t2 - t0;
                    continue;
                }
                if (allocated >= 0) allocated += a1 - a0;
                promptRate[run] = p;
                genRate[run] = g;
                run++;
            }
            ObjectNode result = new ObjectMapper().createObjectNode();
            result.put("model", model.model.toString());
            result.put("weights", model.quantize == null ? "as stored" : model.quantize.toString());
            result.put("activations", model.q8Activations ? "q8_0 (llama.cpp's rounding)" : "float32");
            result.put("threads", Parallel.threads());
            result.put("prompt_tokens", promptTokens);
            result.put("gen_tokens", genTokens);
            result.put("runs", runs);
            result.put("warm_up_runs", warmUps);
            result.put("prompt_tokens_per_s_median", median(promptRate));
            result.put("prompt_tokens_per_s_min", Arrays.stream(promptRate).min().orElseThrow());
            result.put("prompt_tokens_per_s_max", Arrays.stream(promptRate).max().orElseThrow());
            result.put("gen_tokens_per_s_median", median(genRate));
            result.put("gen_tokens_per_s_min", Arrays.stream(genRate).min().orElseThrow());
            result.put("gen_tokens_per_s_max", Arrays.stream(genRate).max().orElseThrow());
            if (allocated >= 0) {
                double perToken = (double) allocated / runs / (promptTokens + genTokens);
                out.printf("allocated: %.0f bytes per token, all threads, over the timed runs%n", perToken);
                result.put("allocated_bytes_per_token", perToken);
            }
            long weightBytes = engine.weights().bytes(), kvBytes = seq.cacheBytes(), fileBytes = modelFileBytes(model.model);
            result.put("weight_bytes", weightBytes);
            result.put("model_file_bytes", fileBytes);
            result.put("kv_cache_bytes", kvBytes);
            var memory = ProcessMemory.read();
            if (memory.isPresent()) {
                long peak = memory.get().peakRssBytes();
                out.printf("memory: %s; weights held %.1f MB (file %.1f MB), KV cache %.1f MB: peak / (weights + KV) = %.2f, peak / (file + KV) = %.2f%n",
                        memory.get().describe(), ProcessMemory.mb(weightBytes), ProcessMemory.mb(fileBytes), ProcessMemory.mb(kvBytes),
                        (double) peak / (weightBytes + kvBytes), (double) peak / (fileBytes + kvBytes));
                result.put("peak_rss_bytes", peak);
                result.put("peak_rss_over_weights_and_kv", (double) peak / (weightBytes + kvBytes));
                result.put("peak_rss_over_file_and_kv", (double) peak / (fileBytes + kvBytes));
            } else {
                out.println("memory: peak RSS not measured (no /proc/self/status: not Linux)");
            }
            out.println(result);
            out.flush();
        }
        return 0;
    }

    /** The size of the weight file: the GGUF file itself, or a checkpoint folder's model.safetensors. */
    private static long modelFileBytes(Path model) throws IOException {
        return Files.size(Files.isDirectory(model) ? model.resolve("model.safetensors") : model);
    }

    private static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
