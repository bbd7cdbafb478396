package ai.behemoth.generate;

import ai.behemoth.format.Safetensors;
import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.TestCheckpoints;
import ai.behemoth.tokenizer.BpeTokenizer;
import ai.behemoth.tokenizer.ByteTokenizer;
import ai.behemoth.tokenizer.Tokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Chat templates (built-in and Jinja from the model files) and multi-turn sessions. */
class ChatTest {
    @TempDir
    Path tmp;

    /** Bytes plus two special tokens after them. */
    static final class BytesWithSpecials implements Tokenizer {
        private final ByteTokenizer bytes = new ByteTokenizer();

        @Override public int vocabSize() { return 258; }
        @Override public int[] encode(String text) { return bytes.encode(text); }
        @Override public byte[] decode(int[] ids) { throw new UnsupportedOperationException(); }
        @Override public byte[] tokenBytes(int id) { return bytes.tokenBytes(id); }
        @Override public void save(Path file) { throw new UnsupportedOperationException(); }

        @Override
        public OptionalInt specialToken(String text) {
            return switch (text) {
                case "<|eot_id|>" -> OptionalInt.of(256);
                case "<|begin_of_text|>" -> OptionalInt.of(257);
                default -> OptionalInt.empty();
            };
        }
    }

    @Test
    void builtInTemplateIsTheLlama3Layout() {
        ChatTemplate t = new ChatTemplate(ChatTemplate.BUILT_IN);
        String text = t.render(List.of(new ChatMessage("system", "Be brief."), new ChatMessage("user", "Hi")), true);
        assertThat(text).isEqualTo("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                + "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
    }

    @Test
    void knownSpecialTokensBecomeIdsAndUnknownOnesStayText() {
        Tokenizer tok = new BytesWithSpecials();
        int[] ids = ChatTemplate.encode(tok, "<|begin_of_text|>a<|x|><|eot_id|>");
        int[] expected = new int[2 + "<|x|>".length() + 1];
        expected[0] = 257;
        expected[1] = 'a';
        byte[] x = "<|x|>".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < x.length; i++) expected[2 + i] = x[i];
        expected[expected.length - 1] = 256;
        assertThat(ids).containsExactly(expected);
        // The byte tokenizer has no special tokens: everything is text.
        assertThat(ChatTemplate.encode(new ByteTokenizer(), "<|eot_id|>")).hasSize("<|eot_id|>".length());
    }

    @Test
    void aTrainedBpeTokenizerGetsRealSpecialTokensAndStopsOnEndOfTurn() throws Exception {
        BpeTokenizer bpe = BpeTokenizer.train(
                "To be, or not to be, that is the question. ".repeat(20), 300);
        String text = new ChatTemplate(ChatTemplate.BUILT_IN).render(List.of(new ChatMessage("user", "to be")), true);
        int[] ids = ChatTemplate.encode(bpe, text);
        int bos = bpe.specialToken(ChatTemplate.BOS).orElseThrow(), eot = bpe.specialToken(ChatTemplate.END_OF_TURN).orElseThrow();
        int start = bpe.specialToken("<|start_header_id|>").orElseThrow(), end = bpe.specialToken("<|end_header_id|>").orElseThrow();
        assertThat(ids[0]).isEqualTo(bos);
        assertThat(ids[1]).isEqualTo(start);
        assertThat(Arrays.stream(ids).filter(i -> i == eot).count()).isEqualTo(1);
        assertThat(Arrays.stream(ids).filter(i -> i == end).count()).isEqualTo(2);
        // Between the markers, ordinary text: decoding the ids gives the rendered text back.
        assertThat(new String(bpe.decode(ids), StandardCharsets.UTF_8)).isEqualTo(text);

        Path dir = tmp.resolve("bpe");
        ModelConfig.Builder b = TestCheckpoints.small("dense").toBuilder();
        b.vocabSize = 300;
        TestCheckpoints.write(dir, b.build(), 5);
        bpe.save(dir.resolve("tokenizer.json"));
        // A zero final norm makes every logit 0; a negative presence penalty then lifts the tokens seen,
        // so greedy decoding picks the end-of-turn token of the prompt: the generation ends on it, showing nothing.
        var tensors = new LinkedHashMap<>(Safetensors.read(dir.resolve("model.safetensors")));
        tensors.put("norm.weight", new Safetensors.Tensor(new int[]{64}, new float[64]));
        Safetensors.write(dir.resolve("model.safetensors"), tensors, Map.of());
        try (LanguageModel model = LanguageModel.load(dir)) {
            Generation g = model.generate(new int[]{eot}, GenerateOptions.greedy().withPresencePenalty(-1).withMaxTokens(5));
            Token only = g.next();
            assertThat(only.id()).isEqualTo(eot);
            assertThat(only.text()).isEmpty();
            assertThat(g.hasNext()).isFalse();
            assertThat(g.finishReason()).isEqualTo(FinishReason.STOP);
        }
    }

    @Test
    void aJinjaTemplateFromTokenizerConfigIsUsed() throws Exception {
        Path dir = tmp.resolve("m");
        TestCheckpoints.write(dir, TestCheckpoints.small("dense"), 4);
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"chat_template\": \"{% for m in messages %}[{{ m.role|upper }}] {{ m.content }}\\n{% endfor %}{% if add_generation_prompt %}[ASSISTANT] {% endif %}\"}");
        try (LanguageModel model = LanguageModel.load(dir)) {
            String text = model.chatTemplate().render(List.of(new ChatMessage("user", "hey")), true);
            assertThat(text).isEqualTo("[USER] hey\n[ASSISTANT] ");
        }
    }

    @Test
    void indentationBeforeABlockTagIsStrippedAsJinjaDoes() {
        ChatTemplate t = new ChatTemplate("{% for m in messages %}\n    {% if m.role == 'user' %}\n  U: {{ m.content }} {% endif %}\n{% endfor %}");
        assertThat(t.render(List.of(new ChatMessage("user", "x")), false)).isEqualTo("  U: x "); // as Python jinja2 renders it with trim_blocks and lstrip_blocks
    }

    @Test
    void raiseExceptionInATemplateIsAClearError() {
        ChatTemplate t = new ChatTemplate("{% for m in messages %}{% if m.role == 'tool' %}{{ raise_exception('tool turns are not supported') }}{% endif %}{{ m.content }}{% endfor %}");
        assertThat(t.render(List.of(new ChatMessage("user", "ok")), false)).isEqualTo("ok");
        assertThatThrownBy(() -> t.render(List.of(new ChatMessage("tool", "x")), false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tool turns are not supported");
    }

    @Test
    void aBrokenTemplateIsAClearError() {
        ChatTemplate t = new ChatTemplate("{% for m in messages %}{{ m.content }");
        assertThatThrownBy(() -> t.render(List.of(new ChatMessage("user", "x")), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("chat template:");
    }

    @Test
    void secondTurnReusesTheCacheAndMatchesAFreshRun() throws Exception {
        Path dir = tmp.resolve("c");
        TestCheckpoints.write(dir, TestCheckpoints.small("mixtral"), 8);
        // A roomier context so two turns fit.
        String config = Files.readString(dir.resolve("config.json")).replace("\"context\" : 48", "\"context\" : 320");
        Files.writeString(dir.resolve("config.json"), config);
        GenerateOptions o = GenerateOptions.greedy().withMaxTokens(5);
        try (LanguageModel model = LanguageModel.load(dir)) {
            ChatSession chat = model.chat("S");
            String first = chat.send("hi", o).text();
            Generation second = chat.send("and?", o);
            String secondText = second.text();
            assertThat(second.promptTokensRun()).isLessThan(second.promptTokens());
            List<ChatMessage> history = chat.history();
            assertThat(history).extracting(ChatMessage::role).containsExactly("system", "user", "assistant", "user", "assistant");
            assertThat(history.get(2).content()).isEqualTo(first);

            // The same conversation rendered and run from scratch gives the same answer.
            String prompt = model.chatTemplate().render(history.subList(0, 4), true);
            String fresh = model.generate(ChatTemplate.encode(model.tokenizer(), prompt),
                    o.withStop(List.of(ChatTemplate.END_OF_TURN))).text();
            assertThat(secondText).isEqualTo(fresh);

            chat.reset();
            assertThat(chat.history()).containsExactly(new ChatMessage("system", "S"));
            assertThat(chat.send("hi", o).text()).isEqualTo(first);
        }
    }

    @Test
    void theOldestExchangesAreForgottenWhenTheContextFills() throws Exception {
        Path dir = tmp.resolve("f");
        TestCheckpoints.write(dir, TestCheckpoints.small("dense"), 4);
        String config = Files.readString(dir.resolve("config.json")).replace("\"context\" : 48", "\"context\" : 200");
        Files.writeString(dir.resolve("config.json"), config);
        try (LanguageModel model = LanguageModel.load(dir)) {
            ChatSession chat = model.chat("S");
            GenerateOptions o = GenerateOptions.greedy().withMaxTokens(8);
            for (String message : List.of("one", "two", "three")) chat.send(message, o).text();
            // Each exchange renders to about 100 byte tokens: only the system prompt and the last one still fit.
            assertThat(chat.history()).extracting(ChatMessage::content).first().isEqualTo("S");
            assertThat(chat.history()).extracting(ChatMessage::role).containsExactly("system", "user", "assistant");
            assertThat(chat.history().get(1).content()).isEqualTo("three");
        }
    }

    @Test
    void aConversationLongerThanTheContextIsAClearError() throws Exception {
        Path dir = tmp.resolve("d");
        TestCheckpoints.write(dir, TestCheckpoints.small("dense"), 4);
        try (LanguageModel model = LanguageModel.load(dir)) {
            ChatSession chat = model.chat(null);
            char[] longText = new char[100];
            Arrays.fill(longText, 'z');
            assertThatThrownBy(() -> chat.send(new String(longText), GenerateOptions.greedy()))
                    .hasMessageContaining("tokens, the model's context holds 48");
        }
    }
}
