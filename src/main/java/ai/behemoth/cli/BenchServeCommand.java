package ai.behemoth.cli;

import ai.behemoth.generate.LanguageModel;
import ai.behemoth.serve.Server;
import ai.behemoth.tensor.ProcessMemory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code behemoth bench serve}: starts the server on loopback in this process and runs N concurrent
 * streaming clients against it for a bounded time, each sending completion after completion; reports
 * aggregate generated tokens/s and the p50/p99 time to first token, for each client count asked for.
 * The same runs with {@code --max-concurrency 1} show what continuous batching buys over serving one
 * request at a time.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Load-test the OpenAI-compatible server: N streaming clients for S seconds; tokens/s and time to first token.")
public final class BenchServeCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    ModelOptions model;

    @Option(names = "--clients", defaultValue = "1,4,16", split = ",", paramLabel = "N[,N...]",
            description = "Concurrent clients; one run per value (default: ${DEFAULT-VALUE}).")
    List<Integer> clients;

    @Option(names = "--seconds", defaultValue = "10", paramLabel = "S", description = "Length of each run (default: ${DEFAULT-VALUE}).")
    int seconds;

    @Option(names = "--max-concurrency", defaultValue = "16", paramLabel = "N",
            description = "The server's running sequences (1: one request at a time) (default: ${DEFAULT-VALUE}).")
    int maxConcurrency;

    @Option(names = "--max-tokens", defaultValue = "64", paramLabel = "N", description = "Tokens per completion (default: ${DEFAULT-VALUE}).")
    int maxTokens;

    @Option(names = "--prompt", defaultValue = "The experts of a mixture each", paramLabel = "TEXT", description = "The prompt every client sends.")
    String prompt;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** One client's results: time to first token of each request (nanoseconds), tokens, failures. */
    private record ClientResult(List<Long> ttft, long tokens, int errors) {}

    @Override
    public Integer call() throws Exception {
        CommandLine cli = spec.commandLine();
        if (seconds < 1) throw new CommandLine.ParameterException(cli, "--seconds must be at least 1, not " + seconds);
        for (int c : clients) if (c < 1) throw new CommandLine.ParameterException(cli, "--clients must be at least 1, not " + c);
        PrintWriter out = cli.getOut();
        try (LanguageModel lm = model.load(cli)) {
            int maxClients = Collections.max(clients);
            Server.Options options = Server.Options.defaults().withPort(0).withMaxConcurrency(maxConcurrency)
                    .withQueue(Math.max(64, maxClients));
            try (Server server = Server.start(lm, "bench", options);
                 HttpClient http = HttpClient.newBuilder().executor(Executors.newCachedThreadPool()).build()) {
                URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/completions");
                run(http, uri, 1, 2, new PrintWriter(PrintWriter.nullWriter())); // warm-up for the JIT, not reported
                out.printf("model %s (%.1f MB of weights), max concurrency %d, %d tokens per completion, %d s per run%n", model.model,
                        ProcessMemory.mb(lm.engine().weights().bytes()), maxConcurrency, maxTokens, seconds);
                out.printf("%8s %10s %12s %12s %12s %8s %13s%n", "clients", "requests", "tokens/s", "ttft p50 ms", "ttft p99 ms", "errors",
                        "peak RSS MB");
                int errors = 0;
                for (int c : clients) errors += run(http, uri, c, seconds, out);
                return errors == 0 ? 0 : 1;
            }
        }
    }

    /** Runs {@code n} clients for {@code seconds}; prints one row; returns the number of failed requests. */
    private int run(HttpClient http, URI uri, int n, int seconds, PrintWriter out) throws Exception {
        long start = System.nanoTime(), end = start + seconds * 1_000_000_000L;
        List<ClientResult> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
            List<Future<ClientResult>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                long seed = i;
                futures.add(pool.submit(() -> client(http, uri, seed, end)));
            }
            for (Future<ClientResult> f : futures) results.add(f.get());
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        List<Long> ttft = new ArrayList<>();
        long tokens = 0;
        int errors = 0;
        for (ClientResult r : results) {
            ttft.addAll(r.ttft());
            tokens += r.tokens();
            errors += r.errors();
        }
        Collections.sort(ttft);
        // The process's peak so far (server, KV caches of every running sequence, and the in-process clients); "-" off Linux.
        String peakRss = ProcessMemory.read().map(m -> String.format("%.1f", ProcessMemory.mb(m.peakRssBytes()))).orElse("-");
        out.printf("%8d %10d %12.1f %12.1f %12.1f %8d %13s%n", n, ttft.size(), tokens / elapsed, percentile(ttft, 50) / 1e6,
                percentile(ttft, 99) / 1e6, errors, peakRss);
        out.flush();
        return errors;
    }

    /** One client: streaming completions one after another until {@code end}; the last one runs to its finish. */
    private ClientResult client(HttpClient http, URI uri, long seed, long end) {
        List<Long> ttft = new ArrayList<>();
        long tokens = 0;
        int errors = 0;
        while (System.nanoTime() < end) {
            String body = JSON.createObjectNode().put("model", "bench").put("prompt", prompt).put("max_tokens", maxTokens)
                    .put("seed", seed++).put("stream", true).set("stream_options", JSON.createObjectNode().put("include_usage", true))
                    .toString();
            HttpRequest request = HttpRequest.newBuilder(uri).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            long sent = System.nanoTime();
            try {
                HttpResponse<java.io.InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
                if (response.statusCode() != 200) {
                    errors++;
                    response.body().close();
                    continue;
                }
                boolean first = true, done = false;
                try (BufferedReader in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                    for (String line = in.readLine(); line != null; line = in.readLine()) {
                        if (!line.startsWith("data: ")) continue;
                        String data = line.substring(6);
                        if (data.equals("[DONE]")) {
                            done = true;
                            break;
                        }
                        JsonNode chunk = JSON.readTree(data);
                        if (chunk.has("error")) break;
                        if (first && !chunk.path("choices").isEmpty()) {
                            ttft.add(System.nanoTime() - sent);
                            first = false;
                        }
                        if (chunk.path("usage").has("completion_tokens")) tokens += chunk.get("usage").get("completion_tokens").asLong();
                    }
                }
                if (!done) errors++;
            } catch (Exception e) {
                errors++;
            }
        }
        return new ClientResult(ttft, tokens, errors);
    }

    private static double percentile(List<Long> sorted, int p) {
        if (sorted.isEmpty()) return Double.NaN;
        int i = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }
}
