package ai.behemoth.model;

/**
 * One sequence being generated: its key/value cache ({@code [layers][capacity, KV·hd]}) and how many
 * positions it holds. Created by {@link InferenceModel#newSequence}; several sequences can share one
 * model and go through it together in one {@link Batch}.
 */
public final class Sequence {
    final float[][] keys, values;
    private final int capacity;
    int length;
    /** Rows of this sequence added to the batch being built, not yet run (their positions follow {@link #length}). */
    int pending;

    Sequence(int layers, int capacity, int kvDim) {
        this.capacity = capacity;
        this.keys = new float[layers][capacity * kvDim];
        this.values = new float[layers][capacity * kvDim];
    }

    /** Positions filled so far: the tokens this sequence has seen. */
    public int length() {
        return length;
    }

    /** The most positions this sequence can hold (the model's context). */
    public int capacity() {
        return capacity;
    }

    /** Forgets every position, keeping the allocated cache. */
    public void reset() {
        length = 0;
        pending = 0;
    }

    /** Drops positions from {@code newLength} on (the next token goes to position {@code newLength}). */
    public void truncate(int newLength) {
        if (newLength < 0 || newLength > length)
            throw new IllegalArgumentException("cannot truncate a sequence of " + length + " positions to " + newLength);
        length = newLength;
    }
}
