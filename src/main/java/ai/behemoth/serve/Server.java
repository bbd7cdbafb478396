package ai.behemoth.serve;

import ai.behemoth.generate.ChatTemplate;
import ai.behemoth.generate.LanguageModel;
import ai.behemoth.model.InferenceModel;
import ai.behemoth.tokenizer.Tokenizer;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.AbstractEndPoint;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Blocker;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An OpenAI-compatible HTTP server over one {@link LanguageModel}: {@code POST /v1/chat/completions},
 * {@code POST /v1/completions} (streamed as server-sent events or not), {@code GET /v1/models},
 * {@code GET /health} and {@code GET /metrics}. Requests go to a {@link Scheduler} that batches all
 * running sequences through the model together.
 *
 * <p>Built on Jetty 12's core handler API: each request's handler thread blocks on its job's events
 * and writes them as they come; a write that fails (the client left), Jetty's failure event, or (for a
 * non-streamed answer, which writes nothing until the end) a {@link DisconnectWatch} that sees the
 * connection close cancels the job, so its sequences stop at the next step. {@link #close()} refuses new requests, lets
 * running ones finish for a grace period, ends the rest with a 503, and stops Jetty.
 */
public final class Server implements AutoCloseable {
    /** How long {@link #close()} lets in-flight requests finish before it cancels them. */
    static final long SHUTDOWN_GRACE_MILLIS = 10_000;

    /**
     * @param host           the address to bind (loopback unless told otherwise)
     * @param port           0 picks a free port
     * @param apiKey         when set, {@code /v1/*} needs {@code Authorization: Bearer KEY}
     * @param maxConcurrency sequences generated together (one per choice of each running request)
     * @param queue          requests that may wait for a place; more are refused with 429
     * @param context        positions per sequence (0: the model's context)
     * @param timeoutSeconds the longest a request may take, queue time included
     * @param maxBodyBytes   larger request bodies are refused with 413
     */
    public record Options(String host, int port, String apiKey, int maxConcurrency, int queue, int context,
                          int timeoutSeconds, long maxBodyBytes) {
        public static Options defaults() {
            return new Options("127.0.0.1", 8080, null, 16, 64, 0, 600, 1 << 20);
        }

        public Options withPort(int p) { return new Options(host, p, apiKey, maxConcurrency, queue, context, timeoutSeconds, maxBodyBytes); }
        public Options withApiKey(String k) { return new Options(host, port, k, maxConcurrency, queue, context, timeoutSeconds, maxBodyBytes); }
        public Options withMaxConcurrency(int n) { return new Options(host, port, apiKey, n, queue, context, timeoutSeconds, maxBodyBytes); }
        public Options withQueue(int n) { return new Options(host, port, apiKey, maxConcurrency, n, context, timeoutSeconds, maxBodyBytes); }
        public Options withContext(int n) { return new Options(host, port, apiKey, maxConcurrency, queue, n, timeoutSeconds, maxBodyBytes); }
        public Options withTimeoutSeconds(int s) { return new Options(host, port, apiKey, maxConcurrency, queue, context, s, maxBodyBytes); }
        public Options withMaxBodyBytes(long b) { return new Options(host, port, apiKey, maxConcurrency, queue, context, timeoutSeconds, b); }
    }

    private final String modelName;
    private final Options options;
    private final Tokenizer tokenizer;
    private final ChatTemplate template;
    private final int context;
    private final Metrics metrics = new Metrics();
    private final Scheduler scheduler;
    private final Responses responses;
    private final org.eclipse.jetty.server.Server jetty;
    private final ServerConnector connector;
    private final AtomicLong ids = new AtomicLong();
    /** Completion handlers still writing (for {@link #close}). */
    private final AtomicInteger completionsInFlight = new AtomicInteger();
    private final long startedSeconds = System.currentTimeMillis() / 1000;

    private Server(LanguageModel model, String modelName, Options options) {
        InferenceModel engine = model.engine();
        int modelContext = model.config().context();
        if (options.context() < 0 || options.context() > modelContext)
            throw new IllegalArgumentException("--ctx must be 1 to the model's context of " + modelContext + ", not " + options.context());
        if (options.timeoutSeconds() < 1) throw new IllegalArgumentException("--timeout must be at least 1 second, not " + options.timeoutSeconds());
        this.modelName = modelName;
        this.options = options;
        this.tokenizer = model.tokenizer();
        this.template = model.chatTemplate();
        this.context = options.context() == 0 ? modelContext : options.context();
        Set<Integer> endTokens = new HashSet<>();
        tokenizer.specialToken(ChatTemplate.EOS).ifPresent(endTokens::add);
        tokenizer.specialToken(ChatTemplate.END_OF_TURN).ifPresent(endTokens::add);
        this.scheduler = new Scheduler(engine, endTokens, options.maxConcurrency(), options.queue(), context, metrics);
        metrics.sources(scheduler::queueDepth, scheduler::runningSequences, engine::expertTokenCounts);
        this.responses = new Responses(modelName, tokenizer);

        // A handler thread per request in flight: the running ones, the queued ones, and a margin.
        QueuedThreadPool threads = new QueuedThreadPool(Math.max(64, options.maxConcurrency() + options.queue() + 32));
        threads.setName("behemoth-http");
        jetty = new org.eclipse.jetty.server.Server(threads);
        connector = new ServerConnector(jetty);
        connector.setHost(options.host());
        connector.setPort(options.port());
        // A non-streamed answer writes nothing until it is done: the idle timeout must outlast the request's own limit.
        connector.setIdleTimeout(TimeUnit.SECONDS.toMillis(options.timeoutSeconds() + 30L));
        jetty.addConnector(connector);
        jetty.setHandler(new Routes());
    }

    /** Starts serving {@code model} as {@code modelName}; {@link #close()} stops it. */
    public static Server start(LanguageModel model, String modelName, Options options) throws Exception {
        Server server = new Server(model, modelName, options);
        server.scheduler.start();
        try {
            server.jetty.start();
        } catch (Exception e) {
            server.scheduler.shutdown(0);
            throw new IOException("cannot listen on " + options.host() + ":" + options.port() + ": " + e.getMessage(), e);
        }
        return server;
    }

    /** The port bound (the chosen one when {@link Options#port()} was 0). */
    public int port() {
        return connector.getLocalPort();
    }

    public int context() {
        return context;
    }

    /** Blocks until the server stops. */
    public void join() throws InterruptedException {
        jetty.join();
    }

    Scheduler scheduler() {
        return scheduler;
    }

    /** Finishes what is running (up to {@link #SHUTDOWN_GRACE_MILLIS}), cancels the rest, and stops listening. */
    @Override
    public void close() throws Exception {
        close(SHUTDOWN_GRACE_MILLIS);
    }

    /** {@link #close()} with another grace period (0 cancels at once). */
    void close(long graceMillis) throws Exception {
        scheduler.shutdown(graceMillis);
        // Every job has ended; let the handlers write their last bytes before the connections close.
        long end = System.currentTimeMillis() + 2000;
        synchronized (completionsInFlight) {
            while (completionsInFlight.get() > 0 && System.currentTimeMillis() < end) completionsInFlight.wait(50);
        }
        jetty.stop();
    }

    private final class Routes extends Handler.Abstract {
        @Override
        public boolean handle(Request request, Response response, Callback callback) {
            String path = Request.getPathInContext(request);
            String endpoint = switch (path) {
                case "/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics" -> path;
                default -> path.startsWith("/v1/models/") ? "/v1/models" : "other";
            };
            int status;
            try {
                status = route(request, response, path);
                callback.succeeded();
            } catch (ApiException e) {
                status = e.status;
                sendError(response, callback, e);
            } catch (IOException e) {
                status = 499; // the client went away mid-response (nginx's code for it)
                callback.failed(e);
            } catch (Exception e) {
                System.err.println("behemoth serve: " + request.getMethod() + " " + path + " failed: " + e);
                status = 500;
                sendError(response, callback, new ApiException(500, "server_error", null, null, "internal server error"));
            }
            metrics.request(endpoint, status);
            return true;
        }
    }

    private int route(Request request, Response response, String path) throws Exception {
        String method = request.getMethod();
        if (path.startsWith("/v1/")) authorize(request);
        switch (path) {
            case "/health" -> {
                requireMethod(method, "GET");
                ObjectNode h = Responses.JSON.createObjectNode();
                h.put("status", "ok");
                h.put("model", modelName);
                h.put("running_sequences", scheduler.runningSequences());
                h.put("queue_depth", scheduler.queueDepth());
                return send(response, 200, "application/json", h.toString());
            }
            case "/metrics" -> {
                requireMethod(method, "GET");
                return send(response, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.render());
            }
            case "/v1/models" -> {
                requireMethod(method, "GET");
                ObjectNode list = Responses.JSON.createObjectNode();
                list.put("object", "list");
                list.putArray("data").add(modelObject());
                return send(response, 200, "application/json", list.toString());
            }
            case "/v1/chat/completions", "/v1/completions" -> {
                requireMethod(method, "POST");
                completionsInFlight.incrementAndGet();
                try {
                    return complete(request, response, path.equals("/v1/chat/completions"));
                } finally {
                    synchronized (completionsInFlight) {
                        completionsInFlight.decrementAndGet();
                        completionsInFlight.notifyAll();
                    }
                }
            }
            default -> {
                if (path.startsWith("/v1/models/")) {
                    requireMethod(method, "GET");
                    String name = path.substring("/v1/models/".length());
                    if (!name.equals(modelName))
                        throw new ApiException(404, "invalid_request_error", "model", "model_not_found",
                                "The model `" + name + "` does not exist");
                    return send(response, 200, "application/json", modelObject().toString());
                }
                throw new ApiException(404, "invalid_request_error", null, "not_found", "no such endpoint: " + method + " " + path);
            }
        }
    }

    private ObjectNode modelObject() {
        ObjectNode m = Responses.JSON.createObjectNode();
        m.put("id", modelName);
        m.put("object", "model");
        m.put("created", startedSeconds);
        m.put("owned_by", "behemoth");
        return m;
    }

    private static void requireMethod(String method, String allowed) {
        if (!method.equals(allowed))
            throw new ApiException(405, "invalid_request_error", null, "method_not_allowed", "use " + allowed + ", not " + method);
    }

    private void authorize(Request request) {
        if (options.apiKey() == null) return;
        String header = request.getHeaders().get(HttpHeader.AUTHORIZATION);
        if (header == null || !header.startsWith("Bearer "))
            throw new ApiException(401, "invalid_request_error", null, "invalid_api_key",
                    "You didn't provide an API key: send it as 'Authorization: Bearer KEY'");
        byte[] given = header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8);
        if (!MessageDigest.isEqual(given, options.apiKey().getBytes(StandardCharsets.UTF_8)))
            throw new ApiException(401, "invalid_request_error", null, "invalid_api_key", "Incorrect API key provided");
    }

    private JsonNode body(Request request) throws IOException {
        long limit = options.maxBodyBytes();
        ApiException tooLarge = new ApiException(413, "invalid_request_error", null, "request_too_large",
                "the request body is larger than the limit of " + limit + " bytes");
        if (request.getLength() > limit) throw tooLarge;
        byte[] bytes;
        try (InputStream in = Content.Source.asInputStream(request)) {
            bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
        }
        if (bytes.length > limit) throw tooLarge;
        try {
            JsonNode node = Responses.JSON.readTree(bytes);
            if (node == null) throw ApiException.invalid(null, "the request body is empty: send a JSON object");
            return node;
        } catch (JacksonException e) {
            throw ApiException.invalid(null, "the request body is not valid JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""));
        }
    }

    private int complete(Request request, Response response, boolean chat) throws Exception {
        CompletionRequest parsed = CompletionRequest.parse(body(request), chat, modelName, tokenizer, template, context);
        Job job = new Job((chat ? "chatcmpl-" : "cmpl-") + Long.toHexString(startedSeconds) + "-" + ids.incrementAndGet(),
                parsed, TimeUnit.SECONDS.toNanos(options.timeoutSeconds()));
        request.addFailureListener(failure -> {
            job.cancel("disconnect");
            scheduler.wake();
        });
        scheduler.submit(job);
        long created = System.currentTimeMillis() / 1000;
        return parsed.stream() ? stream(job, response, created) : whole(job, request, response, created);
    }

    private int whole(Job job, Request request, Response response, long created) throws Exception {
        DisconnectWatch watch = new DisconnectWatch(request.getConnectionMetaData().getConnection().getEndPoint(), job);
        int n = job.request.n();
        Responses.Gathered[] gathered = new Responses.Gathered[n];
        for (int i = 0; i < n; i++) gathered[i] = new Responses.Gathered();
        try {
            int open = n;
            while (open > 0) {
                Event e = job.events.poll(100, TimeUnit.MILLISECONDS);
                if (e == null) {
                    // The scheduler drops a cancelled job without an event: this thread must see the cancellation itself.
                    if (job.cancelled != null) throw new IOException("the client disconnected");
                    continue;
                }
                if (e.error() != null) throw e.error();
                Responses.Gathered g = gathered[e.choice()];
                g.text.append(e.text());
                g.tokens++;
                if (e.logprob() != null) g.logprobs.add(e.logprob());
                if (e.finishReason() != null) {
                    g.finishReason = e.finishReason();
                    open--;
                }
            }
        } finally {
            // Before anything is written (the answer or an error): Jetty reads the connection again after it.
            if (!watch.stop()) response.getHeaders().put(HttpHeader.CONNECTION, "close");
        }
        int completion = 0;
        for (Responses.Gathered g : gathered) completion += g.tokens;
        metrics.tokens(job.request.prompt().length, completion);
        return send(response, 200, "application/json", responses.complete(job, gathered, created).toString());
    }

    /**
     * Notices a non-streamed client that disconnects while its answer is computed. Jetty reads nothing while
     * a handler runs and writes nothing of a non-streamed answer until the end, so it would see the closed
     * connection only then: this asks the endpoint to say when it becomes readable, and reads one byte. End of
     * stream (or a failed read) cancels the job. A client that sends more bytes before its answer (HTTP
     * pipelining) has its connection closed after the answer, since the byte read cannot be put back.
     */
    private final class DisconnectWatch {
        private final EndPoint endPoint;
        private final Job job;
        private final CompletableFuture<Boolean> done = new CompletableFuture<>(); // true: the connection can be reused
        private volatile boolean stopping;

        DisconnectWatch(EndPoint endPoint, Job job) {
            this.endPoint = endPoint;
            this.job = job;
            watch();
        }

        private void watch() {
            if (!(endPoint instanceof AbstractEndPoint) || !endPoint.tryFillInterested(Callback.from(this::readable, failure -> disconnected())))
                done.complete(true); // not a socket endpoint, or someone else is reading already (not expected): nothing to watch
        }

        private void readable() {
            try {
                int read = endPoint.fill(BufferUtil.allocate(1)); // empty, in Jetty's flush mode
                if (read < 0) disconnected();
                else if (read > 0 || stopping) done.complete(read == 0);
                else watch(); // woken with nothing to read (a stale readiness): keep watching
            } catch (IOException e) {
                disconnected();
            }
        }

        private void disconnected() {
            job.cancel("disconnect");
            scheduler.wake();
            done.complete(false);
        }

        /** Ends the watch; false if the connection must close after the answer. */
        boolean stop() throws InterruptedException, ExecutionException {
            stopping = true;
            while (!done.isDone()) {
                // Wakes a pending watch, which then reads nothing and ends; retried in case it was between two waits.
                ((AbstractEndPoint) endPoint).getFillInterest().fillable();
                try {
                    return done.get(10, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    // not ended yet: try again
                }
            }
            return done.join();
        }
    }

    private int stream(Job job, Response response, long created) throws Exception {
        int n = job.request.n();
        boolean[] started = new boolean[n];
        int[] textOffset = new int[n];
        int open = n, completion = 0;
        response.setStatus(200);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/event-stream; charset=utf-8");
        response.getHeaders().put(HttpHeader.CACHE_CONTROL, "no-cache");
        List<Event> events = new ArrayList<>();
        try {
            while (open > 0) {
                events.clear();
                events.add(job.events.take());
                job.events.drainTo(events);
                StringBuilder out = new StringBuilder();
                for (Event e : events) {
                    if (e.error() != null) {
                        if (!response.isCommitted() && out.isEmpty()) throw e.error(); // nothing sent yet: a plain error status
                        // The status line is gone already: the error travels as an event, as OpenAI's streams do.
                        out.append("data: ").append(Responses.error(e.error())).append("\n\n");
                        write(response, true, out.toString());
                        return 200;
                    }
                    completion++;
                    int i = e.choice();
                    if (!e.text().isEmpty() || !started[i] || e.logprob() != null)
                        out.append("data: ").append(responses.chunk(job, created, i, e.text(), e.logprob(), null, !started[i], textOffset[i])).append("\n\n");
                    started[i] = true;
                    textOffset[i] += e.text().length();
                    if (e.finishReason() != null) {
                        out.append("data: ").append(responses.chunk(job, created, i, "", null, e.finishReason(), false, textOffset[i])).append("\n\n");
                        open--;
                    }
                }
                if (open == 0) {
                    if (job.request.includeUsage()) out.append("data: ").append(responses.usageChunk(job, created, completion)).append("\n\n");
                    out.append("data: [DONE]\n\n");
                }
                write(response, open == 0, out.toString());
            }
        } catch (IOException e) {
            job.cancel("disconnect");
            scheduler.wake();
            throw e;
        }
        metrics.tokens(job.request.prompt().length, completion);
        return 200;
    }

    private static int send(Response response, int status, String contentType, String body) throws IOException {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, contentType);
        write(response, true, body);
        return status;
    }

    private static void sendError(Response response, Callback callback, ApiException e) {
        if (response.isCommitted()) {
            callback.failed(e);
            return;
        }
        response.setStatus(e.status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        Content.Sink.write(response, true, Responses.error(e).toString(), callback);
    }

    private static void write(Response response, boolean last, String text) throws IOException {
        try (Blocker.Callback cb = Blocker.callback()) {
            response.write(last, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), cb);
            cb.block();
        }
    }
}
