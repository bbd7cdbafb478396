package ai.behemoth.model;

import java.util.Arrays;

/**
 * One sequence being generated: its key/value cache ({@code [layers][positions, KV·hd]}) and how many
 * positions it holds. Created by {@link InferenceModel#newSequence}; several sequences can share one
 * model and go through it together in one {@link Batch}. The cache starts small and doubles as the
 * sequence grows, up to its capacity, so a model with a long context costs memory only for the
 * positions used.
 */
public final class Sequence {
    private static final int INITIAL_POSITIONS = 256;

    final float[][] keys, values;
    private final int capacity, kvDim;
    int length;
    /** Rows of this sequence added to the batch being built, not yet run (their positions follow {@link #length}). */
    int pending;

    Sequence(int layers, int capacity, int kvDim) {
        this.capacity = capacity;
        this.kvDim = kvDim;
        int initial = Math.min(capacity, INITIAL_POSITIONS);
        this.keys = new float[layers][initial * kvDim];
        this.values = new float[layers][initial * kvDim];
    }

    /** Grows the cache to hold at least {@code positions} positions (at most the capacity). */
    void reserve(int positions) {
        int held = keys[0].length / kvDim;
        if (positions <= held) return;
        int grown = (int) Math.min(capacity, Math.max(positions, 2L * held));
        for (int l = 0; l < keys.length; l++) {
            keys[l] = Arrays.copyOf(keys[l], Math.multiplyExact(grown, kvDim));
            values[l] = Arrays.copyOf(values[l], grown * kvDim);
        }
    }

    /**
     * A new sequence holding the same positions (its own copy of the cache), to continue in another
     * direction: several answers to one prompt, or a shared prefix run once.
     */
    public Sequence copy() {
        if (pending != 0) throw new IllegalStateException("cannot copy a sequence with rows waiting in a batch");
        Sequence c = new Sequence(keys.length, capacity, kvDim);
        c.reserve(length);
        for (int l = 0; l < keys.length; l++) {
            System.arraycopy(keys[l], 0, c.keys[l], 0, length * kvDim);
            System.arraycopy(values[l], 0, c.values[l], 0, length * kvDim);
        }
        c.length = length;
        return c;
    }

    /** Positions filled so far: the tokens this sequence has seen. */
    public int length() {
        return length;
    }

    /** Bytes of key/value cache allocated now (it grows by doubling as positions are added). */
    public long cacheBytes() {
        return 2L * keys.length * keys[0].length * Float.BYTES;
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
