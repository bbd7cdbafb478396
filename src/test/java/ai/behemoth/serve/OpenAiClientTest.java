package ai.behemoth.serve;

import ai.behemoth.generate.GenerateOptions;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.chat.completions.ChatCompletionTokenLogprob;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** The server as Java applications see it: through OpenAI's official client. */
class OpenAiClientTest {
    static Server server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        server = TestServers.start(TestServers.options());
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey("unused")
                .maxRetries(0).build();
    }

    @AfterAll
    static void stop() throws Exception {
        client.close();
        server.close();
    }

    static ChatCompletionCreateParams chat(long seed, int maxTokens) {
        return ChatCompletionCreateParams.builder().model(TestServers.MODEL).addUserMessage("Tell me about experts.")
                .maxCompletionTokens(maxTokens).seed(seed).temperature(1.0).build();
    }

    static String streamText(ChatCompletionCreateParams params) {
        StringBuilder text = new StringBuilder();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(c -> c.choices().forEach(ch -> ch.delta().content().ifPresent(text::append)));
        }
        return text.toString();
    }

    @Test
    void chatWithTheSameSeedGivesTheSameTextStreamedOrNot() {
        ChatCompletion a = client.chat().completions().create(chat(7, 24));
        ChatCompletion b = client.chat().completions().create(chat(7, 24));
        ChatCompletion other = client.chat().completions().create(chat(8, 24));
        String text = a.choices().getFirst().message().content().orElseThrow();
        assertThat(text).isNotEmpty();
        assertThat(b.choices().getFirst().message().content()).contains(text);
        assertThat(other.choices().getFirst().message().content().orElseThrow()).isNotEqualTo(text);
        assertThat(streamText(chat(7, 24))).isEqualTo(text);

        var usage = a.usage().orElseThrow();
        assertThat(usage.promptTokens()).isGreaterThan(10); // the chat template's header around 22 bytes of text
        assertThat(usage.completionTokens()).isBetween(1L, 24L);
        assertThat(usage.totalTokens()).isEqualTo(usage.promptTokens() + usage.completionTokens());
        var finish = a.choices().getFirst().finishReason();
        assertThat(finish).isEqualTo(usage.completionTokens() == 24 ? ChatCompletion.Choice.FinishReason.LENGTH
                : ChatCompletion.Choice.FinishReason.STOP);
    }

    @Test
    void streamingWithIncludeUsageEndsWithTheCounts() {
        ChatCompletionCreateParams p = chat(3, 10).toBuilder()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(p)) {
            stream.stream().forEach(chunks::add);
        }
        ChatCompletionChunk last = chunks.getLast();
        assertThat(last.choices()).isEmpty();
        assertThat(last.usage().orElseThrow().completionTokens()).isBetween(1L, 10L);
        assertThat(chunks.get(chunks.size() - 2).choices().getFirst().finishReason()).isPresent();
    }

    @Test
    void greedyCompletionMatchesTheEngineAlone() {
        String prompt = "The router sends each token";
        Completion c = client.completions().create(CompletionCreateParams.builder().model(TestServers.MODEL)
                .prompt(prompt).maxTokens(16).temperature(0.0).build());
        String expected = TestServers.model().generate(prompt, GenerateOptions.greedy().withMaxTokens(16)).text();
        assertThat(c.choices().getFirst().text()).isEqualTo(expected);
        assertThat(c.usage().orElseThrow().promptTokens()).isEqualTo(prompt.length()); // byte tokenizer

        // Sampled with a seed: the same sampler as the engine's own generation, with OpenAI's defaults.
        Completion seeded = client.completions().create(CompletionCreateParams.builder().model(TestServers.MODEL)
                .prompt(prompt).maxTokens(16).seed(5).build());
        String sampled = TestServers.model().generate(prompt, GenerateOptions.defaults().withTopK(0).withMinP(0).withTopP(1)
                .withTemperature(1).withSeed(5L).withMaxTokens(16)).text();
        assertThat(seeded.choices().getFirst().text()).isEqualTo(sampled);

        StringBuilder streamed = new StringBuilder();
        try (var stream = client.completions().createStreaming(CompletionCreateParams.builder().model(TestServers.MODEL)
                .prompt(prompt).maxTokens(16).seed(5).build())) {
            stream.stream().forEach(chunk -> chunk.choices().forEach(ch -> streamed.append(ch.text())));
        }
        assertThat(streamed.toString()).isEqualTo(sampled);
    }

    @Test
    void penaltiesTopPAndLogprobsOfCompletionsFollowTheEngine() {
        String prompt = "aaaa bbbb aaaa";
        Completion c = client.completions().create(CompletionCreateParams.builder().model(TestServers.MODEL).prompt(prompt)
                .maxTokens(20).seed(9).topP(0.8).presencePenalty(0.5).frequencyPenalty(1.5).logprobs(2).build());
        String expected = TestServers.model().generate(prompt, GenerateOptions.defaults().withTopK(0).withMinP(0).withTemperature(1)
                .withTopP(0.8).withPresencePenalty(0.5).withFrequencyPenalty(1.5).withPenaltyWindow(256).withSeed(9L)
                .withMaxTokens(20)).text();
        assertThat(c.choices().getFirst().text()).isEqualTo(expected);
        var logprobs = c.choices().getFirst().logprobs().orElseThrow();
        assertThat(logprobs.tokens().orElseThrow()).hasSize(20);
        assertThat(logprobs.tokenLogprobs().orElseThrow()).allSatisfy(lp -> assertThat(lp).isLessThanOrEqualTo(0));
        assertThat(logprobs.topLogprobs().orElseThrow()).allSatisfy(top -> assertThat(top._additionalProperties()).hasSize(2));
    }

    @Test
    void stopStringCutsTheTextBeforeIt() {
        String prompt = "Load balancing";
        CompletionCreateParams.Builder b = CompletionCreateParams.builder().model(TestServers.MODEL).prompt(prompt)
                .maxTokens(24).temperature(0.0);
        String full = client.completions().create(b.build()).choices().getFirst().text();
        assertThat(full.length()).isGreaterThan(6);
        String stop = full.substring(4, 6);
        Completion cut = client.completions().create(b.stop(stop).build());
        assertThat(cut.choices().getFirst().text()).isEqualTo(full.substring(0, full.indexOf(stop)));
        assertThat(cut.choices().getFirst().finishReason()).isEqualTo(CompletionChoice.FinishReason.STOP);
    }

    @Test
    void severalChoicesAndLogprobs() {
        ChatCompletion c = client.chat().completions().create(chat(21, 8).toBuilder().n(3).logprobs(true).topLogprobs(3).build());
        assertThat(c.choices()).hasSize(3);
        assertThat(c.choices()).extracting(ChatCompletion.Choice::index).containsExactly(0L, 1L, 2L);
        long tokens = 0;
        for (ChatCompletion.Choice ch : c.choices()) {
            List<ChatCompletionTokenLogprob> lp = ch.logprobs().orElseThrow().content().orElseThrow();
            assertThat(lp).isNotEmpty();
            for (ChatCompletionTokenLogprob t : lp) {
                assertThat(t.topLogprobs()).hasSize(3);
                assertThat(t.topLogprobs().get(0).logprob()).isGreaterThanOrEqualTo(t.topLogprobs().get(1).logprob());
                assertThat(t.logprob()).isLessThanOrEqualTo(t.topLogprobs().get(0).logprob()).isLessThanOrEqualTo(0);
            }
            tokens += lp.size();
        }
        assertThat(c.usage().orElseThrow().completionTokens()).isGreaterThanOrEqualTo(tokens);

        // Greedy: the chosen token is the most likely one.
        ChatCompletion g = client.chat().completions().create(chat(1, 6).toBuilder().temperature(0.0).logprobs(true).topLogprobs(2).build());
        for (ChatCompletionTokenLogprob t : g.choices().getFirst().logprobs().orElseThrow().content().orElseThrow()) {
            assertThat(t.token()).isEqualTo(t.topLogprobs().getFirst().token());
            assertThat(t.logprob()).isEqualTo(t.topLogprobs().getFirst().logprob());
        }
    }

    @Test
    void concurrentStreamsGetTheTextTheyGetAlone() throws Exception {
        int clients = 4;
        String[] alone = new String[clients];
        for (int i = 0; i < clients; i++) alone[i] = streamText(chat(100 + i, 12 + 2 * i));
        try (ExecutorService pool = Executors.newFixedThreadPool(clients)) {
            List<Future<String>> together = new ArrayList<>();
            for (int i = 0; i < clients; i++) {
                int k = i;
                together.add(pool.submit(() -> streamText(chat(100 + k, 12 + 2 * k))));
            }
            for (int i = 0; i < clients; i++) assertThat(together.get(i).get()).as("client %d", i).isEqualTo(alone[i]);
        }
    }

    @Test
    void modelsAndMetrics() throws Exception {
        assertThat(client.models().list().data()).extracting(m -> m.id()).containsExactly(TestServers.MODEL);
        client.completions().create(CompletionCreateParams.builder().model(TestServers.MODEL).prompt("x").maxTokens(3).build());
        String metrics = TestServers.get(server, "/metrics").body();
        assertThat(metrics).contains("behemoth_requests_total{endpoint=\"/v1/completions\",status=\"200\"}");
        assertThat(metrics).contains("behemoth_time_to_first_token_seconds_count");
        assertThat(metrics).containsPattern("behemoth_expert_tokens_total\\{layer=\"0\",expert=\"7\"} \\d+");
        assertThat(TestServers.metric(server, "behemoth_completion_tokens_total")).isGreaterThanOrEqualTo(3);
        assertThat(TestServers.get(server, "/health").body()).contains("\"status\":\"ok\"");
    }
}
