package ai.behemoth.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** The queue limit, a client that leaves, and shutdown with work in flight. */
class SchedulingTest {
    static final String LONG_STREAM = "{\"model\": \"tiny-moe\", \"prompt\": \"Once\", \"max_tokens\": 4000, \"stream\": true, \"seed\": 1}";

    @Test
    void aFullQueueAnswers429() throws Exception {
        try (Server server = TestServers.start(TestServers.options().withMaxConcurrency(1).withQueue(1))) {
            server.scheduler().hold(true);
            String body = "{\"model\": \"tiny-moe\", \"prompt\": \"abc\", \"max_tokens\": 4}";
            CompletableFuture<HttpResponse<String>> queued = CompletableFuture.supplyAsync(() -> {
                try {
                    return TestServers.post(server, "/v1/completions", body);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            waitFor(() -> server.scheduler().queueDepth() == 1);
            assertThat(TestServers.metric(server, "behemoth_queue_depth")).isEqualTo(1);
            HttpResponse<String> refused = TestServers.post(server, "/v1/completions", body);
            assertThat(ErrorResponsesTest.error(refused, 429).get("code").asText()).isEqualTo("queue_full");
            server.scheduler().hold(false);
            assertThat(queued.get().statusCode()).isEqualTo(200);
            assertThat(TestServers.metric(server, "behemoth_requests_total{endpoint=\"/v1/completions\",status=\"429\"}")).isEqualTo(1);
        }
    }

    @Test
    void aClientThatDisconnectsStopsItsGeneration() throws Exception {
        try (Server server = TestServers.start(TestServers.options().withContext(4096))) {
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                BufferedReader in = openStream(socket, server.port());
                waitFor(() -> server.scheduler().runningSequences() == 1);
                assertThat(TestServers.metric(server, "behemoth_running_sequences")).isEqualTo(1);
                assertThat(in.readLine()).startsWith("data: ");
            }
            waitFor(() -> server.scheduler().runningSequences() == 0);
            assertThat(TestServers.metric(server, "behemoth_running_sequences")).isEqualTo(0);
            assertThat(TestServers.metric(server, "behemoth_cancelled_requests_total{reason=\"disconnect\"}")).isEqualTo(1);
            // Its tokens never counted as a completed request, and it did not run to its 4000 tokens.
            assertThat(TestServers.metric(server, "behemoth_completion_tokens_total")).isEqualTo(0);
        }
    }

    @Test
    void aNonStreamedClientThatDisconnectsStopsItsGeneration() throws Exception {
        try (Server server = TestServers.start(TestServers.options().withContext(4096))) {
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                byte[] body = LONG_STREAM.replace("\"stream\": true", "\"stream\": false").getBytes(StandardCharsets.UTF_8);
                OutputStream out = socket.getOutputStream();
                out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:" + server.port() + "\r\nContent-Type: application/json\r\n"
                        + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                waitFor(() -> server.scheduler().runningSequences() == 1);
            }
            // Nothing is written to a non-streamed client until the end: the server must notice the close itself.
            waitFor(() -> server.scheduler().runningSequences() == 0);
            assertThat(TestServers.metric(server, "behemoth_cancelled_requests_total{reason=\"disconnect\"}")).isEqualTo(1);
            assertThat(TestServers.metric(server, "behemoth_completion_tokens_total")).isEqualTo(0);
        }
    }

    @Test
    void aKeptAliveConnectionServesOneNonStreamedRequestAfterAnother() throws Exception {
        try (Server server = TestServers.start(TestServers.options());
             Socket socket = new Socket("127.0.0.1", server.port())) {
            byte[] body = "{\"model\": \"tiny-moe\", \"prompt\": \"abc\", \"max_tokens\": 3, \"seed\": 1}".getBytes(StandardCharsets.UTF_8);
            byte[] head = ("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:" + server.port() + "\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
            java.io.DataInputStream in = new java.io.DataInputStream(socket.getInputStream());
            for (int request = 0; request < 2; request++) {
                socket.getOutputStream().write(head);
                socket.getOutputStream().write(body);
                socket.getOutputStream().flush();
                // The watch for a disconnect must hand the connection back to Jetty intact: the second request is read and answered.
                String status = readLine(in);
                assertThat(status).isEqualTo("HTTP/1.1 200 OK");
                int length = -1;
                for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
                    assertThat(line.toLowerCase()).doesNotContain("connection: close");
                    if (line.toLowerCase().startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
                }
                byte[] answer = new byte[length];
                in.readFully(answer);
                assertThat(new String(answer, StandardCharsets.UTF_8)).contains("\"finish_reason\":\"length\"");
            }
        }
    }

    private static String readLine(java.io.InputStream in) throws java.io.IOException {
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) throw new java.io.EOFException("connection closed after: " + line);
            if (c != '\r') line.append((char) c);
        }
        return line.toString();
    }

    @Test
    void shutdownEndsWorkInFlightWithAnErrorEvent() throws Exception {
        Server server = TestServers.start(TestServers.options().withContext(4096));
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            BufferedReader in = openStream(socket, server.port());
            assertThat(in.readLine()).startsWith("data: ");
            server.close(0);
            StringBuilder rest = new StringBuilder();
            for (String line = in.readLine(); line != null; line = in.readLine()) rest.append(line).append('\n');
            assertThat(rest.toString()).contains("\"code\":\"shutting_down\"").doesNotContain("[DONE]");
        }
        assertThat(server.scheduler().runningSequences()).isZero();
    }

    @Test
    void shutdownLetsShortWorkFinish() throws Exception {
        Server server = TestServers.start(TestServers.options());
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            BufferedReader in = openStream(socket, server.port(), LONG_STREAM.replace("4000", "40"));
            assertThat(in.readLine()).startsWith("data: ");
            CompletableFuture<Void> closing = CompletableFuture.runAsync(() -> {
                try {
                    server.close(10_000);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            StringBuilder rest = new StringBuilder();
            for (String line = in.readLine(); line != null && !line.equals("data: [DONE]"); line = in.readLine())
                rest.append(line).append('\n');
            assertThat(rest.toString()).contains("\"finish_reason\":\"length\"").doesNotContain("error");
            closing.get(15, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    @Test
    void aRequestPastItsTimeLimitGets408() throws Exception {
        try (Server server = TestServers.start(TestServers.options().withTimeoutSeconds(1))) {
            server.scheduler().hold(true); // it waits in the queue past its limit
            HttpResponse<String> r = TestServers.post(server, "/v1/completions", "{\"model\": \"tiny-moe\", \"prompt\": \"abc\"}");
            JsonNode e = ErrorResponsesTest.error(r, 408);
            assertThat(e.get("code").asText()).isEqualTo("timeout");
            assertThat(e.get("message").asText()).contains("1 s");
            // A stream that has sent nothing yet gets the same status, not an event.
            HttpResponse<String> streamed = TestServers.post(server, "/v1/completions",
                    "{\"model\": \"tiny-moe\", \"prompt\": \"abc\", \"stream\": true}");
            assertThat(ErrorResponsesTest.error(streamed, 408).get("code").asText()).isEqualTo("timeout");
            assertThat(server.scheduler().queueDepth()).isZero();
        }
    }

    /** Sends a long streaming completion over a raw socket and returns the reader positioned after the headers. */
    private static BufferedReader openStream(Socket socket, int port) throws Exception {
        return openStream(socket, port, LONG_STREAM);
    }

    private static BufferedReader openStream(Socket socket, int port, String request) throws Exception {
        byte[] body = request.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nContent-Type: application/json\r\n"
                + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
        assertThat(in.readLine()).isEqualTo("HTTP/1.1 200 OK");
        for (String line = in.readLine(); !line.isEmpty(); line = in.readLine()) { /* headers */ }
        // Chunked transfer: the chunk-size lines are skipped by readers of "data: " lines.
        return new BufferedReader(new InputStreamReader(new DataLines(in), StandardCharsets.UTF_8));
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long end = System.nanoTime() + 10_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("condition not met within 10 s");
            Thread.sleep(5);
        }
    }

    /** The lines of a chunked SSE body that start with "data: ", as a stream. */
    private static final class DataLines extends java.io.InputStream {
        private final BufferedReader in;
        private byte[] line = new byte[0];
        private int at;

        DataLines(BufferedReader in) {
            this.in = in;
        }

        @Override
        public int read() throws java.io.IOException {
            return nextLine() ? line[at++] & 0xff : -1;
        }

        /** At most the rest of the current line: a reader must not wait for more lines than it asked for. */
        @Override
        public int read(byte[] b, int off, int len) throws java.io.IOException {
            if (len == 0) return 0;
            if (!nextLine()) return -1;
            int n = Math.min(len, line.length - at);
            System.arraycopy(line, at, b, off, n);
            at += n;
            return n;
        }

        private boolean nextLine() throws java.io.IOException {
            while (at == line.length) {
                String next = in.readLine();
                if (next == null) return false;
                if (!next.startsWith("data: ")) continue;
                line = (next + "\n").getBytes(StandardCharsets.UTF_8);
                at = 0;
            }
            return true;
        }
    }

    /**
     * A request on a sequence kept from a finished one (its cache full of another prompt's keys and
     * values) gets the same text as on a fresh server; one request at a time, so the sequence is reused.
     */
    @Test
    void aKeptSequenceGivesTheSameTextAsAFreshOne() throws Exception {
        String first = "{\"model\": \"tiny-moe\", \"prompt\": \"A much longer first prompt, to fill the cache\", \"max_tokens\": 40, \"seed\": 5}";
        String second = "{\"model\": \"tiny-moe\", \"prompt\": \"Once\", \"max_tokens\": 12, \"seed\": 9}";
        String fresh, reused;
        try (Server server = TestServers.start(TestServers.options().withMaxConcurrency(1))) {
            fresh = text(TestServers.post(server, "/v1/completions", second));
        }
        try (Server server = TestServers.start(TestServers.options().withMaxConcurrency(1))) {
            text(TestServers.post(server, "/v1/completions", first));
            reused = text(TestServers.post(server, "/v1/completions", second));
        }
        assertThat(reused).isEqualTo(fresh).isNotEmpty();
    }

    private static String text(HttpResponse<String> response) throws Exception {
        assertThat(response.statusCode()).isEqualTo(200);
        JsonNode body = new ObjectMapper().readTree(response.body());
        return body.get("choices").get(0).get("text").asText();
    }
}
