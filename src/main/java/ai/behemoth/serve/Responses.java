package ai.behemoth.serve;

import ai.behemoth.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** The JSON bodies of OpenAI's API: completions, chat completions, their stream chunks, and errors. */
final class Responses {
    static final ObjectMapper JSON = new ObjectMapper();

    private final String model;
    private final Tokenizer tokenizer;

    Responses(String model, Tokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
    }

    static ObjectNode error(ApiException e) {
        ObjectNode root = JSON.createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", e.getMessage());
        error.put("type", e.type);
        error.put("param", e.param);
        error.put("code", e.code);
        return root;
    }

    /** One choice's text, log-probabilities and end, gathered from its events. */
    static final class Gathered {
        final StringBuilder text = new StringBuilder();
        final List<Logprobs.Entry> logprobs = new ArrayList<>();
        String finishReason;
        int tokens;
    }

    /** The whole (non-streamed) response. */
    ObjectNode complete(Job job, Gathered[] choices, long created) {
        boolean chat = job.request.chat();
        ObjectNode root = head(job, created, chat ? "chat.completion" : "text_completion");
        ArrayNode array = root.putArray("choices");
        int completion = 0;
        for (int i = 0; i < choices.length; i++) {
            Gathered g = choices[i];
            completion += g.tokens;
            ObjectNode c = array.addObject();
            c.put("index", i);
            if (chat) {
                ObjectNode m = c.putObject("message");
                m.put("role", "assistant");
                m.put("content", g.text.toString());
                m.putNull("refusal");
            } else {
                c.put("text", g.text.toString());
            }
            logprobs(c, job, g.logprobs, 0);
            c.put("finish_reason", g.finishReason);
        }
        usage(root, job.request.prompt().length, completion);
        return root;
    }

    /** A stream chunk with one choice's piece of text (and its end, when {@code finishReason} is set). */
    ObjectNode chunk(Job job, long created, int index, String text, Logprobs.Entry logprob, String finishReason,
                     boolean first, int textOffset) {
        boolean chat = job.request.chat();
        ObjectNode root = head(job, created, chat ? "chat.completion.chunk" : "text_completion");
        ObjectNode c = root.putArray("choices").addObject();
        c.put("index", index);
        if (chat) {
            ObjectNode delta = c.putObject("delta");
            if (first) delta.put("role", "assistant");
            if (!text.isEmpty() || first) delta.put("content", text);
        } else {
            c.put("text", text);
        }
        logprobs(c, job, logprob == null ? List.of() : List.of(logprob), textOffset);
        c.put("finish_reason", finishReason);
        if (job.request.includeUsage()) root.putNull("usage");
        return root;
    }

    /** The last chunk of a stream with {@code include_usage}: no choices, the counts. */
    ObjectNode usageChunk(Job job, long created, int completionTokens) {
        ObjectNode root = head(job, created, job.request.chat() ? "chat.completion.chunk" : "text_completion");
        root.putArray("choices");
        usage(root, job.request.prompt().length, completionTokens);
        return root;
    }

    private ObjectNode head(Job job, long created, String object) {
        ObjectNode root = JSON.createObjectNode();
        root.put("id", job.id);
        root.put("object", object);
        root.put("created", created);
        root.put("model", model);
        return root;
    }

    private static void usage(ObjectNode root, int prompt, int completion) {
        ObjectNode u = root.putObject("usage");
        u.put("prompt_tokens", prompt);
        u.put("completion_tokens", completion);
        u.put("total_tokens", prompt + completion);
    }

    /** Chat: {@code {"content": [{token, logprob, bytes, top_logprobs}]}}; completions: parallel arrays. */
    private void logprobs(ObjectNode choice, Job job, List<Logprobs.Entry> entries, int textOffset) {
        if (job.request.topLogprobs() < 0) {
            choice.putNull("logprobs");
            return;
        }
        ObjectNode lp = choice.putObject("logprobs");
        if (job.request.chat()) {
            ArrayNode content = lp.putArray("content");
            for (Logprobs.Entry e : entries) {
                ObjectNode t = content.addObject();
                token(t, e.id(), e.logprob());
                ArrayNode top = t.putArray("top_logprobs");
                for (int i = 0; i < e.topIds().length; i++) token(top.addObject(), e.topIds()[i], e.topLogprob()[i]);
            }
            lp.putNull("refusal");
        } else {
            ArrayNode tokens = lp.putArray("tokens"), logprobs = lp.putArray("token_logprobs"),
                    tops = lp.putArray("top_logprobs"), offsets = lp.putArray("text_offset");
            int offset = textOffset;
            for (Logprobs.Entry e : entries) {
                String s = tokenText(e.id());
                tokens.add(s);
                logprobs.add(e.logprob());
                ObjectNode top = tops.addObject();
                for (int i = 0; i < e.topIds().length; i++) top.put(tokenText(e.topIds()[i]), e.topLogprob()[i]);
                offsets.add(offset);
                String text = decoded(e.id());
                offset += text == null ? 0 : text.length(); // part of a character: its text comes with a later token
            }
        }
    }

    private void token(ObjectNode t, int id, float logprob) {
        t.put("token", tokenText(id));
        t.put("logprob", logprob);
        ArrayNode bytes = t.putArray("bytes");
        for (byte b : tokenizer.tokenBytes(id)) bytes.add(b & 0xff);
    }

    /**
     * A token's text; a token whose bytes are not whole UTF-8 characters (part of one, as byte-level
     * tokens often are) is written as OpenAI does, {@code bytes:\xe2\x80}, so that distinct tokens
     * never share a name.
     */
    private String tokenText(int id) {
        String text = decoded(id);
        if (text != null) return text;
        StringBuilder sb = new StringBuilder("bytes:");
        for (byte b : tokenizer.tokenBytes(id)) sb.append(String.format("\\x%02x", b & 0xff));
        return sb.toString();
    }

    /** The token's bytes as text, or null when they are not whole UTF-8 characters. */
    private String decoded(int id) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(tokenizer.tokenBytes(id))).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            return null;
        }
    }
}
