package ai.behemoth.generate;

import ai.behemoth.model.InferenceModel;
import ai.behemoth.model.Sequence;

import java.util.Arrays;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * One streaming generation: an iterator of {@link Token}s, computed as they are asked for. The
 * prompt is run (in chunks) on the first {@link #hasNext()}; each later token costs one decode step.
 * Not thread-safe, except {@link #cancel()}, which any thread may call (Ctrl-C in {@code chat}).
 */
public final class Generation implements Iterator<Token> {
    private final InferenceModel model;
    private final Sequence sequence;
    private final GenerateOptions options;
    private final Sampler sampler;
    private final TokenStepper stepper;
    private final StringBuilder text = new StringBuilder();
    private final int promptLength, cachedAtStart;
    private int[] context;           // prompt + generated ids
    private int length;              // ids in context
    private int generated;
    private float[] logits;          // after the last id fed to the model; null before the prompt runs
    private Token next;
    private FinishReason finish;
    private volatile boolean cancelled;
    private long promptNanos, generateNanos;

    /**
     * @param sequence a sequence whose first {@code cached} positions already hold {@code prompt[0, cached)}
     *                 (0 for a fresh one); the rest of the prompt is run on it
     * @param endTokens ids that end the generation without being shown (end of text, end of turn)
     */
    Generation(InferenceModel model, Sequence sequence, int[] prompt, int cached, GenerateOptions options,
               Set<Integer> endTokens) {
        if (prompt.length == 0)
            throw new IllegalArgumentException("empty prompt: give at least one character of text to continue from");
        if (prompt.length > sequence.capacity())
            throw new IllegalArgumentException("prompt is " + prompt.length + " tokens, longer than the model's context of "
                    + sequence.capacity() + " tokens");
        if (cached < 0 || cached > sequence.length() || cached >= prompt.length)
            throw new IllegalArgumentException("cached prefix " + cached + " does not fit a prompt of " + prompt.length + " tokens");
        this.model = model;
        this.sequence = sequence;
        this.options = options;
        this.sampler = new Sampler(options, options.seed() != null ? options.seed() : System.nanoTime());
        this.stepper = new TokenStepper(model.tokenizer(), Set.copyOf(endTokens), options.stop());
        this.promptLength = prompt.length;
        this.cachedAtStart = cached;
        this.context = Arrays.copyOf(prompt, prompt.length + options.maxTokens());
        this.length = prompt.length;
    }

    @Override
    public boolean hasNext() {
        if (next == null && finish == null) next = step();
        return next != null;
    }

    @Override
    public Token next() {
        if (!hasNext()) throw new NoSuchElementException("the generation has finished (" + finish + ")");
        Token t = next;
        next = null;
        return t;
    }

    /** Stops the generation before its next token; safe to call from another thread. */
    public void cancel() {
        cancelled = true;
    }

    private Token step() {
        if (cancelled) return end(FinishReason.CANCELLED);
        if (logits == null) {
            long t0 = System.nanoTime();
            sequence.truncate(cachedAtStart);
            logits = model.prefill(sequence, Arrays.copyOfRange(context, cachedAtStart, promptLength));
            promptNanos = System.nanoTime() - t0;
        } else {
            if (generated == options.maxTokens() || sequence.length() == sequence.capacity())
                return end(FinishReason.LENGTH);
            long t0 = System.nanoTime();
            logits = model.decode(sequence, context[length - 1], logits); // the last step's array, refilled
            generateNanos += System.nanoTime() - t0;
        }
        if (cancelled) return end(FinishReason.CANCELLED);
        long t0 = System.nanoTime();
        stepper.maskPadding(logits);
        int id = sampler.sample(logits, context, length);
        generateNanos += System.nanoTime() - t0;
        context[length++] = id;
        generated++;
        String piece = stepper.accept(id, generated == options.maxTokens() || length > sequence.capacity());
        finish = stepper.finish();
        return token(id, piece);
    }

    private Token token(int id, String piece) {
        text.append(piece);
        return new Token(id, piece);
    }

    /** Ends without a token: flushed text, if any, was already released with the last token. */
    private Token end(FinishReason reason) {
        finish = reason;
        return null;
    }

    /** The tokens as a sequential stream (consuming this generation). */
    public Stream<Token> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(this, Spliterator.ORDERED | Spliterator.NONNULL), false);
    }

    /** Runs to the end and returns the whole text (including what was already taken). */
    public String text() {
        while (hasNext()) next();
        return text.toString();
    }

    /** The text produced so far. */
    public String textSoFar() {
        return text.toString();
    }

    /** Null while running; why it ended once {@link #hasNext()} has returned false. */
    public FinishReason finishReason() {
        return finish;
    }

    public int promptTokens() { return promptLength; }

    /** Prompt tokens that had to be run (the rest were already in the sequence's cache). */
    public int promptTokensRun() { return promptLength - cachedAtStart; }

    public int generatedTokens() { return generated; }

    public long promptNanos() { return promptNanos; }

    /** Time spent in decode steps and sampling. */
    public long generateNanos() { return generateNanos; }

    /** The ids whose keys and values are in the sequence now: the prompt and all generated tokens but the last. */
    int[] cachedIds() {
        int valid = logits == null ? Math.min(cachedAtStart, sequence.length()) : sequence.length();
        return Arrays.copyOf(context, valid);
    }
}
