package ai.behemoth.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** Every refusal over raw HTTP: the status, and OpenAI's error shape naming the field, with no stack trace. */
class ErrorResponsesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static Server server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServers.start(TestServers.options().withMaxBodyBytes(4000));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    /** Checks the status and the error object, and returns the error object. */
    static JsonNode error(HttpResponse<String> r, int status) throws Exception {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.body()).doesNotContain("Exception").doesNotContain("at ai.behemoth").doesNotContain("at org.eclipse");
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        JsonNode error = JSON.readTree(r.body()).get("error");
        assertThat(error).isNotNull();
        assertThat(error.has("message") && error.has("type") && error.has("param") && error.has("code")).as(r.body()).isTrue();
        assertThat(error.get("message").asText()).isNotBlank();
        return error;
    }

    static HttpResponse<String> chat(String fields) throws Exception {
        return TestServers.post(server, "/v1/chat/completions",
                "{\"model\": \"" + TestServers.MODEL + "\", \"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]" + fields + "}");
    }

    @Test
    void malformedJsonIs400() throws Exception {
        JsonNode e = error(TestServers.post(server, "/v1/chat/completions", "{\"model\": \"tiny-moe\", \"messages\": ["), 400);
        assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(e.get("message").asText()).contains("not valid JSON");
        assertThat(error(TestServers.post(server, "/v1/completions", "[1, 2]"), 400).get("message").asText()).contains("JSON object");
    }

    @Test
    void wrongTypesAre400NamingTheField() throws Exception {
        assertThat(error(chat(", \"temperature\": \"hot\""), 400).get("param").asText()).isEqualTo("temperature");
        assertThat(error(chat(", \"max_tokens\": 1.5"), 400).get("param").asText()).isEqualTo("max_tokens");
        assertThat(error(chat(", \"max_tokens\": 0"), 400).get("message").asText()).contains("at least 1");
        assertThat(error(chat(", \"stop\": 5"), 400).get("param").asText()).isEqualTo("stop");
        assertThat(error(chat(", \"n\": \"two\""), 400).get("param").asText()).isEqualTo("n");
        assertThat(error(chat(", \"stream\": \"yes\""), 400).get("param").asText()).isEqualTo("stream");
        assertThat(error(chat(", \"top_logprobs\": 3"), 400).get("param").asText()).isEqualTo("top_logprobs");
        assertThat(error(TestServers.post(server, "/v1/chat/completions",
                "{\"model\": \"tiny-moe\", \"messages\": \"hi\"}"), 400).get("param").asText()).isEqualTo("messages");
        assertThat(error(TestServers.post(server, "/v1/chat/completions",
                "{\"model\": \"tiny-moe\", \"messages\": [{\"role\": \"wizard\", \"content\": \"hi\"}]}"), 400).get("param").asText())
                .isEqualTo("messages[0].role");
        assertThat(error(TestServers.post(server, "/v1/completions", "{\"model\": \"tiny-moe\", \"prompt\": {}}"), 400)
                .get("param").asText()).isEqualTo("prompt");
        assertThat(error(TestServers.post(server, "/v1/completions", "{\"model\": 3, \"prompt\": \"x\"}"), 400)
                .get("param").asText()).isEqualTo("model");
    }

    @Test
    void unknownModelIs404() throws Exception {
        JsonNode e = error(TestServers.post(server, "/v1/completions", "{\"model\": \"gpt-9\", \"prompt\": \"x\"}"), 404);
        assertThat(e.get("code").asText()).isEqualTo("model_not_found");
        assertThat(e.get("message").asText()).contains("gpt-9");
        error(TestServers.get(server, "/v1/models/gpt-9"), 404);
    }

    @Test
    void promptPlusMaxTokensOverTheContextIs400SayingHowMany() throws Exception {
        String prompt = "x".repeat(200); // 200 tokens with the byte tokenizer; the server gives each request 256
        JsonNode e = error(TestServers.post(server, "/v1/completions",
                "{\"model\": \"tiny-moe\", \"prompt\": \"" + prompt + "\", \"max_tokens\": 100}"), 400);
        assertThat(e.get("code").asText()).isEqualTo("context_length_exceeded");
        assertThat(e.get("message").asText()).contains("256 tokens").contains("300 tokens").contains("200 in your prompt")
                .contains("100 for the completion");
        // 200 + 56 fits exactly.
        HttpResponse<String> ok = TestServers.post(server, "/v1/completions",
                "{\"model\": \"tiny-moe\", \"prompt\": \"" + prompt + "\", \"max_tokens\": 56}");
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    }

    @Test
    void bodyTooLargeIs413() throws Exception {
        String big = "y".repeat(5000);
        JsonNode e = error(TestServers.post(server, "/v1/completions", "{\"model\": \"tiny-moe\", \"prompt\": \"" + big + "\"}"), 413);
        assertThat(e.get("message").asText()).contains("4000 bytes");
    }

    @Test
    void unknownEndpointAndWrongMethod() throws Exception {
        error(TestServers.get(server, "/v1/embeddings"), 404);
        error(TestServers.get(server, "/v1/chat/completions"), 405);
    }

    @Test
    void apiKeyIsRequiredWhenSet() throws Exception {
        try (Server keyed = TestServers.start(TestServers.options().withApiKey("sekrit"))) {
            String body = "{\"model\": \"tiny-moe\", \"prompt\": \"x\", \"max_tokens\": 2}";
            assertThat(error(TestServers.post(keyed, "/v1/completions", body), 401).get("code").asText()).isEqualTo("invalid_api_key");
            error(TestServers.post(keyed, "/v1/completions", body, "Authorization", "Bearer wrong"), 401);
            error(TestServers.get(keyed, "/v1/models"), 401);
            assertThat(TestServers.post(keyed, "/v1/completions", body, "Authorization", "Bearer sekrit").statusCode()).isEqualTo(200);
            assertThat(TestServers.get(keyed, "/health").statusCode()).isEqualTo(200);
        }
        // Without --api-key any or no key is accepted.
        assertThat(TestServers.post(server, "/v1/completions", "{\"model\": \"tiny-moe\", \"prompt\": \"x\", \"max_tokens\": 2}",
                "Authorization", "Bearer anything").statusCode()).isEqualTo(200);
    }
}
