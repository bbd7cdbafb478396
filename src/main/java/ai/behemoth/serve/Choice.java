package ai.behemoth.serve;

import ai.behemoth.generate.FinishReason;
import ai.behemoth.generate.GenerateOptions;
import ai.behemoth.generate.Sampler;
import ai.behemoth.generate.TokenStepper;
import ai.behemoth.model.Batch;
import ai.behemoth.model.Sequence;
import ai.behemoth.tokenizer.Tokenizer;

import java.util.Arrays;
import java.util.Set;

/**
 * One choice of a request as the scheduler runs it: its sequence (key/value cache), the ids so
 * far, its own sampler, and its {@link TokenStepper} (the same per-token rules as
 * {@code generate.Generation}). The scheduler feeds the prompt in chunks ({@link #fed}), then one
 * decode row a step, and hands each row's logits to {@link #accept}.
 */
final class Choice {
    final Job job;
    final int index;
    final Sequence sequence;
    private final Sampler sampler;
    private final int[] context;      // prompt + generated ids
    private final int promptLength, maxTokens, topLogprobs;
    private final TokenStepper stepper;
    private float[] logits, logprobs; // [V] each, reused from token to token
    private int length;               // ids in context
    int fed;                          // prompt ids already put into a batch
    int generated;
    String finishReason;              // null while running; "stop" or "length"

    Choice(Job job, int index, Sequence sequence, int[] prompt, GenerateOptions options, long seed, int topLogprobs,
           Tokenizer tokenizer, Set<Integer> endTokens) {
        this.job = job;
        this.index = index;
        this.sequence = sequence;
        this.sampler = new Sampler(options, seed);
        this.context = Arrays.copyOf(prompt, prompt.length + options.maxTokens());
        this.promptLength = prompt.length;
        this.length = prompt.length;
        this.maxTokens = options.maxTokens();
        this.topLogprobs = topLogprobs;
        this.stepper = new TokenStepper(tokenizer, endTokens, options.stop());
    }

    boolean prefilling() {
        return fed < promptLength;
    }

    /** The next prompt id to run (while prefilling). */
    int promptId(int i) {
        return context[i];
    }

    int promptLength() {
        return promptLength;
    }

    /** The id whose logits the next decode step computes: the last one picked. */
    int lastId() {
        return context[length - 1];
    }

    /** Picks the next token from the logits of {@code row} of the batch just run and returns what the client sees of it. */
    Event accept(Batch batch, int row) {
        logits = batch.logits(row, logits);
        stepper.maskPadding(logits);
        Logprobs.Entry logprob = null;
        if (topLogprobs >= 0) {
            if (logprobs == null) logprobs = new float[logits.length];
            logprob = Logprobs.before(logits, topLogprobs, logprobs);
        }
        int id = sampler.sample(logits, context, length);
        context[length++] = id;
        generated++;
        String piece = stepper.accept(id, generated == maxTokens || length > sequence.capacity());
        FinishReason finish = stepper.finish();
        finishReason = finish == null ? null : finish == FinishReason.STOP ? "stop" : "length";
        return new Event(index, piece, logprob == null ? null : logprob.chosen(id), finishReason, null);
    }
}
