package ai.behemoth.generate;

import ai.behemoth.tokenizer.Tokenizer;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Jinja chat template (the Hugging Face convention: variables {@code messages},
 * {@code add_generation_prompt}, {@code bos_token}, {@code eos_token}), rendered by Jinjava with
 * {@code trim_blocks} and {@code lstrip_blocks} as {@code transformers} does, and turned into ids.
 * Jinjava's own lstrip option also strips spaces before a tag in the middle of a line, which
 * Jinja does not, so lstrip is done here on the source: spaces and tabs from the start of a line
 * up to a {@code {%} or {@code {#} tag are removed.
 *
 * <p>In the rendered text, each {@code <|name|>} that the tokenizer has as a special token becomes
 * that id; the rest is encoded as ordinary text. A tokenizer without those special tokens (the byte
 * tokenizer) therefore sees the whole template as plain text, and the end-of-turn marker becomes a
 * stop string rather than a stop token.
 */
public final class ChatTemplate {
    /** Behemoth's own models: the Llama 3 layout with the special tokens every trained Behemoth tokenizer has. */
    public static final String BUILT_IN = """
            {{ bos_token }}{% for message in messages %}<|start_header_id|>{{ message['role'] }}<|end_header_id|>

            {{ message['content'] }}<|eot_id|>{% endfor %}{% if add_generation_prompt %}<|start_header_id|>assistant<|end_header_id|>

            {% endif %}""";
    public static final String BOS = "<|begin_of_text|>", EOS = "<|end_of_text|>", END_OF_TURN = "<|eot_id|>";

    private static final Pattern LINE_INDENT_BEFORE_TAG = Pattern.compile("(?m)^[ \\t]+(?=\\{[%#](?!\\+))");
    private static final Pattern SPECIAL = Pattern.compile("<\\|[A-Za-z0-9_]+\\|>");
    private static final JinjavaConfig CONFIG = JinjavaConfig.newBuilder()
            .withTrimBlocks(true).withLstripBlocks(false).withFailOnUnknownTokens(false).build();

    private final String source, lstripped;
    private final Jinjava jinjava = new Jinjava(CONFIG);

    public ChatTemplate(String source) {
        this.source = source;
        this.lstripped = LINE_INDENT_BEFORE_TAG.matcher(source).replaceAll("");
        // Hugging Face templates reject conversations they cannot render with raise_exception(message).
        jinjava.getGlobalContext().registerFunction(
                new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raiseException", String.class));
    }

    /** The template's own refusal, as a one-line error. */
    public static Object raiseException(String message) {
        throw new TemplateRefusal(message);
    }

    /** What {@code raise_exception} throws, found again under Jinjava's wrapping. */
    private static final class TemplateRefusal extends RuntimeException {
        TemplateRefusal(String message) {
            super(message, null, false, false);
        }
    }

    public String source() {
        return source;
    }

    /** The conversation as text; throws IllegalArgumentException quoting the template's first error. */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (ChatMessage m : messages) list.add(Map.of("role", m.role(), "content", m.content()));
        Map<String, Object> vars = new HashMap<>();
        vars.put("messages", list);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", BOS);
        vars.put("eos_token", EOS);
        RenderResult result = jinjava.renderForResult(lstripped, vars);
        for (TemplateError e : result.getErrors()) {
            if (e.getSeverity() != TemplateError.ErrorType.FATAL) continue;
            for (Throwable cause = e.getException(); cause != null; cause = cause.getCause()) {
                if (cause instanceof TemplateRefusal refusal)
                    throw new IllegalArgumentException("chat template: " + refusal.getMessage());
            }
            throw new IllegalArgumentException("chat template: " + e.getMessage() + " (line " + e.getLineno() + ")");
        }
        return result.getOutput();
    }

    /** {@code text} as ids, with each {@code <|name|>} the tokenizer knows as a special token turned into its id. */
    public static int[] encode(Tokenizer tokenizer, String text) {
        List<int[]> parts = new ArrayList<>();
        Matcher m = SPECIAL.matcher(text);
        int from = 0;
        while (m.find()) {
            OptionalInt id = tokenizer.specialToken(m.group());
            if (id.isEmpty()) continue;
            if (m.start() > from) parts.add(tokenizer.encode(text.substring(from, m.start())));
            parts.add(new int[]{id.getAsInt()});
            from = m.end();
        }
        if (from < text.length()) parts.add(tokenizer.encode(text.substring(from)));
        int n = 0;
        for (int[] p : parts) n += p.length;
        int[] ids = new int[n];
        int at = 0;
        for (int[] p : parts) {
            System.arraycopy(p, 0, ids, at, p.length);
            at += p.length;
        }
        return ids;
    }
}
