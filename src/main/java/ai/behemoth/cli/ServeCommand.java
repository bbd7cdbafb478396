package ai.behemoth.cli;

import ai.behemoth.generate.LanguageModel;
import ai.behemoth.serve.Server;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/**
 * {@code behemoth serve}: an OpenAI-compatible HTTP server over one model, with continuous batching.
 * SIGTERM or Ctrl-C shuts it down cleanly: no new requests, running ones get a grace period, the
 * rest end with a 503.
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = "Serve a model over an OpenAI-compatible HTTP API (chat and text completions, streaming, metrics).")
public final class ServeCommand implements Callable<Integer> {
    @Mixin
    ModelOptions model;

    @Option(names = "--host", defaultValue = "127.0.0.1", paramLabel = "ADDR",
            description = "Address to listen on (default: ${DEFAULT-VALUE}, this machine only; 0.0.0.0 for every interface).")
    String host;

    @Option(names = "--port", defaultValue = "8080", paramLabel = "N", description = "Port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int port;

    @Option(names = "--api-key", paramLabel = "KEY", description = "Require 'Authorization: Bearer KEY' on /v1/* (default: none).")
    String apiKey;

    @Option(names = "--max-concurrency", defaultValue = "16", paramLabel = "N",
            description = "Sequences generated together in one batch (default: ${DEFAULT-VALUE}).")
    int maxConcurrency;

    @Option(names = "--queue", defaultValue = "64", paramLabel = "N",
            description = "Requests that may wait for a place; beyond that the server answers 429 (default: ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--ctx", defaultValue = "0", paramLabel = "N",
            description = "Context per request, prompt plus completion (default: the model's).")
    int ctx;

    @Option(names = "--timeout", defaultValue = "600", paramLabel = "S",
            description = "Longest a request may take, queue time included, in seconds (default: ${DEFAULT-VALUE}).")
    int timeout;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) throw new CommandLine.ParameterException(spec.commandLine(), "--port must be 0 to 65535, not " + port);
        PrintWriter err = spec.commandLine().getErr();
        Server.Options options = new Server.Options(host, port, apiKey, maxConcurrency, queue, ctx, timeout,
                Server.Options.defaults().maxBodyBytes());
        try (LanguageModel lm = model.load(spec.commandLine())) {
            String name = model.model.getFileName().toString();
            Server server = Server.start(lm, name, options);
            Thread shutdown = new Thread(() -> {
                err.println("behemoth serve: shutting down");
                err.flush();
                try {
                    server.close();
                } catch (Exception e) {
                    err.println("behemoth serve: shutdown: " + e.getMessage());
                }
            }, "behemoth-shutdown");
            Runtime.getRuntime().addShutdownHook(shutdown);
            err.printf("behemoth serve: %s on http://%s:%d/v1 (context %d, max concurrency %d, queue %d%s)%n", name, host,
                    server.port(), server.context(), maxConcurrency, queue, apiKey != null ? ", API key required" : "");
            err.flush();
            server.join();
        }
        return 0;
    }
}
