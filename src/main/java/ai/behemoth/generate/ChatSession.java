package ai.behemoth.generate;

import ai.behemoth.model.Sequence;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A multi-turn conversation with a model: the history, rendered through the model's chat template,
 * and one key/value cache that later turns reuse (only the tokens after the longest prefix shared
 * with what the cache already holds are run). When the conversation outgrows the context, the oldest
 * exchanges are forgotten (the system prompt stays) so that the answer has room: up to its
 * max tokens, or a quarter of the context. Not thread-safe.
 */
public final class ChatSession {
    private final LanguageModel model;
    private final ChatTemplate template;
    private final String systemPrompt;
    private final List<ChatMessage> history = new ArrayList<>();
    private final Sequence sequence;
    private int[] cached = new int[0];
    private Generation current;
    private String pendingUser;

    ChatSession(LanguageModel model, String systemPrompt) {
        this.model = model;
        this.template = model.chatTemplate();
        this.systemPrompt = systemPrompt;
        this.sequence = model.engine().newSequence();
        reset();
    }

    /**
     * Adds the user's message and starts the answer. The answer joins the history once this
     * generation has finished (or been cancelled) and the next {@link #send} or {@link #history()} call
     * comes. Throws, saying how many tokens, when even the system prompt and this message do not fit.
     */
    public Generation send(String userMessage, GenerateOptions options) {
        settle();
        int capacity = sequence.capacity(), answerRoom = Math.min(options.maxTokens(), capacity / 4);
        int[] prompt = render(userMessage);
        // Forget the oldest exchanges (never the system prompt) until the answer has room, or none is left.
        int firstTurn = systemPrompt != null ? 1 : 0;
        while (prompt.length + answerRoom > capacity && history.size() >= firstTurn + 2) {
            history.subList(firstTurn, firstTurn + 2).clear();
            prompt = render(userMessage);
        }
        if (prompt.length >= capacity)
            throw new IllegalArgumentException("the conversation is " + prompt.length + " tokens, the model's context holds "
                    + capacity + ": /reset to start over");
        int common = 0;
        while (common < cached.length && common < prompt.length - 1 && cached[common] == prompt[common]) common++;
        List<String> stops = new ArrayList<>(options.stop());
        if (!stops.contains(ChatTemplate.END_OF_TURN)) stops.add(ChatTemplate.END_OF_TURN);
        current = model.start(sequence, prompt, common, options.withStop(stops));
        pendingUser = userMessage;
        return current;
    }

    /** The history and the new user message through the template, as ids. */
    private int[] render(String userMessage) {
        List<ChatMessage> turn = new ArrayList<>(history);
        turn.add(new ChatMessage("user", userMessage));
        return ChatTemplate.encode(model.tokenizer(), template.render(turn, true));
    }

    /** The conversation so far (system prompt, then user and assistant turns). */
    public List<ChatMessage> history() {
        settle();
        return Collections.unmodifiableList(history);
    }

    /** Forgets every turn (the system prompt stays). */
    public void reset() {
        history.clear();
        if (systemPrompt != null) history.add(new ChatMessage("system", systemPrompt));
        cached = new int[0];
        sequence.reset();
        current = null;
        pendingUser = null;
    }

    /** Moves a finished or abandoned answer into the history. */
    private void settle() {
        if (current == null) return;
        history.add(new ChatMessage("user", pendingUser));
        history.add(new ChatMessage("assistant", current.textSoFar()));
        cached = current.cachedIds();
        current = null;
        pendingUser = null;
    }
}
