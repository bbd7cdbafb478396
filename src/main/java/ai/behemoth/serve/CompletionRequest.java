package ai.behemoth.serve;

import ai.behemoth.generate.ChatMessage;
import ai.behemoth.generate.ChatTemplate;
import ai.behemoth.generate.GenerateOptions;
import ai.behemoth.tokenizer.Tokenizer;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;

/**
 * One {@code /v1/chat/completions} or {@code /v1/completions} request, parsed and checked: the
 * prompt as ids, and how to generate. Every refusal is an {@link ApiException} naming the field.
 *
 * @param chat         a chat completion (messages through the chat template) rather than a text completion
 * @param prompt       the prompt's ids
 * @param maxTokens    the most tokens each choice may generate
 * @param options      sampling and stop strings (the seed is the first choice's; choice i uses seed + i)
 * @param n            how many choices
 * @param topLogprobs  -1: no log-probabilities; otherwise how many alternatives to report per token
 * @param stream       answer as server-sent events
 * @param includeUsage with {@code stream}: a last chunk with the token counts
 */
record CompletionRequest(boolean chat, int[] prompt, int maxTokens, GenerateOptions options, int n, int topLogprobs,
                         boolean stream, boolean includeUsage) {

    /** Fields this server reads; others (OpenAI's extensions) are accepted and ignored, as OpenAI-compatible servers do. */
    static CompletionRequest parse(JsonNode body, boolean chat, String modelName, Tokenizer tokenizer, ChatTemplate template,
                                   int context) {
        if (!body.isObject()) throw ApiException.invalid(null, "the request body must be a JSON object");
        String model = text(body, "model", true);
        if (!model.equals(modelName))
            throw new ApiException(404, "invalid_request_error", "model", "model_not_found",
                    "The model `" + model + "` does not exist; this server serves `" + modelName + "`");

        int[] prompt = chat ? chatPrompt(body, tokenizer, template) : textPrompt(body, tokenizer);
        if (prompt.length == 0) throw ApiException.invalid(chat ? "messages" : "prompt", "the prompt is empty");

        Integer maxTokens = integer(body, "max_completion_tokens", 1);
        if (maxTokens == null) maxTokens = integer(body, "max_tokens", 1);
        int room = context - prompt.length;
        if (maxTokens == null ? room < 1 : prompt.length + maxTokens > context)
            throw new ApiException(400, "invalid_request_error", chat ? "messages" : "prompt", "context_length_exceeded",
                    "This model's maximum context length is " + context + " tokens, however you requested "
                            + (prompt.length + (maxTokens == null ? 1 : maxTokens)) + " tokens (" + prompt.length
                            + " in your prompt; " + (maxTokens == null ? 1 : maxTokens)
                            + " for the completion). Please reduce your prompt or completion length.");
        if (maxTokens == null) maxTokens = room;

        Double temperature = number(body, "temperature", 0, 2);
        Double topP = number(body, "top_p", 0, 1);
        if (topP != null && topP == 0) throw ApiException.invalid("top_p", "top_p must be above 0, got 0");
        Double presence = number(body, "presence_penalty", -2, 2);
        Double frequency = number(body, "frequency_penalty", -2, 2);
        Long seed = body.hasNonNull("seed") ? longValue(body, "seed") : null;
        Integer n = integer(body, "n", 1);
        if (n != null && n > 16) throw ApiException.invalid("n", "n must be at most 16, got " + n);
        text(body, "user", false);

        List<String> stop = stops(body.get("stop"));
        if (chat && !stop.contains(ChatTemplate.END_OF_TURN)) {
            // With a tokenizer that lacks the special token, the end-of-turn marker arrives as text.
            stop = new ArrayList<>(stop);
            stop.add(ChatTemplate.END_OF_TURN);
        }

        int topLogprobs = -1;
        if (chat) {
            JsonNode lp = body.get("logprobs");
            if (lp != null && !lp.isNull() && !lp.isBoolean()) throw ApiException.invalid("logprobs", "logprobs must be a boolean");
            Integer top = integer(body, "top_logprobs", 0);
            if (top != null && top > 20) throw ApiException.invalid("top_logprobs", "top_logprobs must be 0 to 20, got " + top);
            if (lp != null && lp.asBoolean()) topLogprobs = top == null ? 0 : top;
            else if (top != null) throw ApiException.invalid("top_logprobs", "top_logprobs needs logprobs: true");
        } else {
            Integer lp = integer(body, "logprobs", 0);
            if (lp != null && lp > 5) throw ApiException.invalid("logprobs", "logprobs must be 0 to 5, got " + lp);
            if (lp != null) topLogprobs = lp;
        }

        JsonNode streamNode = body.get("stream");
        if (streamNode != null && !streamNode.isNull() && !streamNode.isBoolean())
            throw ApiException.invalid("stream", "stream must be a boolean");
        boolean stream = streamNode != null && streamNode.asBoolean();
        boolean includeUsage = false;
        JsonNode so = body.get("stream_options");
        if (so != null && !so.isNull()) {
            if (!so.isObject()) throw ApiException.invalid("stream_options", "stream_options must be an object");
            JsonNode iu = so.get("include_usage");
            if (iu != null && !iu.isNull() && !iu.isBoolean())
                throw ApiException.invalid("stream_options.include_usage", "stream_options.include_usage must be a boolean");
            includeUsage = iu != null && iu.asBoolean();
        }

        // OpenAI's defaults: temperature 1, top_p 1, no top-k or min-p.
        GenerateOptions options = GenerateOptions.defaults().withTopK(0).withMinP(0).withPenaltyWindow(context)
                .withMaxTokens(maxTokens)
                .withTemperature(temperature == null ? 1 : temperature)
                .withTopP(topP == null ? 1 : topP)
                .withPresencePenalty(presence == null ? 0 : presence)
                .withFrequencyPenalty(frequency == null ? 0 : frequency)
                .withSeed(seed)
                .withStop(stop);
        return new CompletionRequest(chat, prompt, maxTokens, options, n == null ? 1 : n, topLogprobs, stream, includeUsage);
    }

    private static int[] chatPrompt(JsonNode body, Tokenizer tokenizer, ChatTemplate template) {
        JsonNode messages = body.get("messages");
        if (messages == null || messages.isNull()) throw ApiException.invalid("messages", "messages is required");
        if (!messages.isArray() || messages.isEmpty())
            throw ApiException.invalid("messages", "messages must be a non-empty array of {role, content} objects");
        List<ChatMessage> list = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
            JsonNode m = messages.get(i);
            String where = "messages[" + i + "]";
            if (!m.isObject()) throw ApiException.invalid(where, where + " must be an object");
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual() || !List.of("system", "developer", "user", "assistant", "tool").contains(role.asText()))
                throw ApiException.invalid(where + ".role", where + ".role must be one of system, developer, user, assistant, tool");
            list.add(new ChatMessage(role.asText().equals("developer") ? "system" : role.asText(), content(m.get("content"), where)));
        }
        try {
            return ChatTemplate.encode(tokenizer, template.render(list, true));
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("messages", e.getMessage());
        }
    }

    /** A message's content: a string, null, or an array of text parts. */
    private static String content(JsonNode c, String where) {
        if (c == null || c.isNull()) return "";
        if (c.isTextual()) return c.asText();
        if (c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!part.isObject() || !"text".equals(part.path("type").asText()) || !part.path("text").isTextual())
                    throw ApiException.invalid(where + ".content", where + ".content parts must be {\"type\": \"text\", \"text\": ...}");
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw ApiException.invalid(where + ".content", where + ".content must be a string or an array of text parts");
    }

    /** {@code prompt}: a string, an array of one string, or an array of token ids. */
    private static int[] textPrompt(JsonNode body, Tokenizer tokenizer) {
        JsonNode p = body.get("prompt");
        if (p == null || p.isNull()) throw ApiException.invalid("prompt", "prompt is required");
        if (p.isTextual()) return tokenizer.encode(p.asText());
        if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) return tokenizer.encode(p.get(0).asText());
        if (p.isArray() && !p.isEmpty() && p.get(0).isIntegralNumber()) {
            int[] ids = new int[p.size()];
            for (int i = 0; i < ids.length; i++) {
                JsonNode t = p.get(i);
                if (!t.isIntegralNumber() || t.asLong() < 0 || t.asLong() >= tokenizer.vocabSize())
                    throw ApiException.invalid("prompt", "prompt[" + i + "] is not a token id (0 to " + (tokenizer.vocabSize() - 1) + ")");
                ids[i] = t.asInt();
            }
            return ids;
        }
        throw ApiException.invalid("prompt", "prompt must be a string, an array of one string, or an array of token ids");
    }

    private static List<String> stops(JsonNode s) {
        if (s == null || s.isNull()) return List.of();
        if (s.isTextual()) {
            if (s.asText().isEmpty()) throw ApiException.invalid("stop", "a stop string must not be empty");
            return List.of(s.asText());
        }
        if (!s.isArray()) throw ApiException.invalid("stop", "stop must be a string or an array of strings");
        if (s.size() > 4) throw ApiException.invalid("stop", "stop takes at most 4 strings, got " + s.size());
        List<String> list = new ArrayList<>();
        for (JsonNode e : s) {
            if (!e.isTextual() || e.asText().isEmpty()) throw ApiException.invalid("stop", "stop must hold non-empty strings");
            list.add(e.asText());
        }
        return list;
    }

    private static String text(JsonNode body, String field, boolean required) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            if (required) throw ApiException.invalid(field, field + " is required");
            return null;
        }
        if (!v.isTextual()) throw ApiException.invalid(field, field + " must be a string, got " + kind(v));
        return v.asText();
    }

    private static Integer integer(JsonNode body, String field, int min) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw ApiException.invalid(field, field + " must be an integer, got " + kind(v));
        if (v.asInt() < min) throw ApiException.invalid(field, field + " must be at least " + min + ", got " + v.asInt());
        return v.asInt();
    }

    private static long longValue(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (!v.isIntegralNumber() || !v.canConvertToLong()) throw ApiException.invalid(field, field + " must be an integer, got " + kind(v));
        return v.asLong();
    }

    private static Double number(JsonNode body, String field, double min, double max) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber()) throw ApiException.invalid(field, field + " must be a number, got " + kind(v));
        double d = v.asDouble();
        if (!(d >= min && d <= max)) throw ApiException.invalid(field, field + " must be between " + min + " and " + max + ", got " + d);
        return d;
    }

    private static String kind(JsonNode v) {
        return switch (v.getNodeType()) {
            case STRING -> "a string";
            case NUMBER -> v.isIntegralNumber() ? "an integer" : "a number";
            case BOOLEAN -> "a boolean";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            default -> "null";
        };
    }
}
