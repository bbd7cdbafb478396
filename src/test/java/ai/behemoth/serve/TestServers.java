package ai.behemoth.serve;

import ai.behemoth.generate.LanguageModel;
import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.TestCheckpoints;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

/** One small random-weight MoE checkpoint for every server test, and helpers to start servers and call them. */
final class TestServers {
    static final String MODEL = "tiny-moe";
    private static LanguageModel model;

    private TestServers() {}

    /** The Mixtral-style test model (byte tokenizer, 8 experts, top-2) with a 4096-token context, loaded once. */
    static synchronized LanguageModel model() {
        if (model == null) {
            try {
                Path dir = Files.createTempDirectory("behemoth-serve-test");
                // mapped by the model until the JVM exits, so removed then
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    try {
                        ai.behemoth.train.CheckpointTestAccess.deleteTree(dir);
                    } catch (IOException ignored) {
                        // a temporary folder left behind
                    }
                }));
                ModelConfig small = TestCheckpoints.small("mixtral");
                TestCheckpoints.write(dir, small, 11);
                // The weights do not depend on the context; a long one (written after, so that the training
                // model that initialises the weights stays small) lets a test run a generation long enough to interrupt.
                ModelConfig.Builder b = small.toBuilder();
                b.context = 4096;
                Files.writeString(dir.resolve("config.json"), b.build().toJson());
                model = LanguageModel.load(dir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return model;
    }

    /** A server on a free loopback port; requests get 256 positions unless {@code options} say otherwise. */
    static Server start(Server.Options options) throws Exception {
        return Server.start(model(), MODEL, options.withPort(0));
    }

    static Server.Options options() {
        return Server.Options.defaults().withContext(256).withTimeoutSeconds(60);
    }

    static final HttpClient HTTP = HttpClient.newHttpClient();

    static HttpResponse<String> post(Server server, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json");
        for (int i = 0; i < headers.length; i += 2) b.header(headers[i], headers[i + 1]);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> get(Server server, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The value of an unlabelled or labelled sample in /metrics text, or -1 when absent. */
    static double metric(Server server, String sample) throws Exception {
        for (String line : get(server, "/metrics").body().lines().toList())
            if (line.startsWith(sample + " ")) return Double.parseDouble(line.substring(sample.length() + 1));
        return -1;
    }
}
