package ai.behemoth.train;

/**
 * Faults injected into a training run, to show that the stability guard copes with them (tests use
 * this; {@code behemoth train} injects none). A fault belongs to a batch, so it is keyed by the data
 * step ({@link Checkpoint.DataState}): after a rollback skips the data window that caused it, it
 * does not come back.
 */
public interface Faults {
    Faults NONE = new Faults() {};

    /** The learning rate for the update made with data step {@code dataStep}'s batch. */
    default double lr(int dataStep, double lr) {
        return lr;
    }

    /**
     * Called after the backward pass of data step {@code dataStep}'s batch, before the guard judges it:
     * may change the model's parameters or gradients; returns the loss the guard sees.
     */
    default double afterBackward(int dataStep, double loss, Transformer model, AdamW adam) {
        return loss;
    }
}
