package ai.behemoth.generate;

import ai.behemoth.tokenizer.Tokenizer;

import java.util.List;
import java.util.Set;

/**
 * The per-token rules of a generation, shared by {@link Generation} and the server's scheduler: ids
 * past the tokenizer's vocabulary (padding rows of the embedding) have no text and are never picked;
 * an end token ends the generation without text; a stop string ends it before the stop string; text
 * is released only as whole characters; the last token allowed releases whatever was held back.
 */
public final class TokenStepper {
    private final Tokenizer tokenizer;
    private final Set<Integer> endTokens;
    private final Utf8Stream utf8 = new Utf8Stream();
    private final StopStrings stops;
    private FinishReason finish;

    /** @param endTokens ids that end the generation without being shown (end of text, end of turn) */
    public TokenStepper(Tokenizer tokenizer, Set<Integer> endTokens, List<String> stops) {
        this.tokenizer = tokenizer;
        this.endTokens = endTokens;
        this.stops = new StopStrings(stops);
    }

    /** Makes the padding ids past the vocabulary impossible to sample. */
    public void maskPadding(float[] logits) {
        for (int i = tokenizer.vocabSize(); i < logits.length; i++) logits[i] = Float.NEGATIVE_INFINITY;
    }

    /**
     * Takes the sampled {@code id} and returns the text it releases (possibly empty).
     * @param last whether no token may follow this one (max tokens reached or the context full)
     */
    public String accept(int id, boolean last) {
        if (endTokens.contains(id)) {
            finish = FinishReason.STOP;
            return stops.push(utf8.flush()) + stops.flush();
        }
        String piece = stops.push(utf8.push(tokenizer.tokenBytes(id)));
        if (stops.stopped()) {
            finish = FinishReason.STOP;
        } else if (last) {
            finish = FinishReason.LENGTH;
            piece += stops.push(utf8.flush());
            if (!stops.stopped()) piece += stops.flush();
            else finish = FinishReason.STOP;
        }
        return piece;
    }

    /** Null while more tokens may follow; {@link FinishReason#STOP} or {@link FinishReason#LENGTH} once the last was accepted. */
    public FinishReason finish() {
        return finish;
    }
}
