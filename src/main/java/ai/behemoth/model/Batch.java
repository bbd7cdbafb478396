package ai.behemoth.model;

import java.util.Arrays;

/**
 * The rows of one forward pass: each row is one token of one sequence, at the next free position
 * of that sequence. A chunk of a prompt is many rows of one sequence; a decode step of continuous
 * batching is one row from each of several sequences; both can mix. Rows of the same sequence must
 * be added in order. Rows that ask for logits get them in {@link #logits(int)} after the forward.
 */
public final class Batch {
    final Sequence[] sequence;
    final int[] token, position;
    final boolean[] wantLogits;
    final int[] logitIndex;   // row → index into logits, or -1
    float[] logits;           // [rows that want logits, V]
    int size;
    private final int vocab;

    Batch(int capacity, int vocab) {
        this.sequence = new Sequence[capacity];
        this.token = new int[capacity];
        this.position = new int[capacity];
        this.wantLogits = new boolean[capacity];
        this.logitIndex = new int[capacity];
        this.vocab = vocab;
        this.logits = new float[0];
    }

    /** Rows this batch can hold. */
    public int capacity() {
        return token.length;
    }

    public int size() {
        return size;
    }

    public boolean isFull() {
        return size == token.length;
    }

    /** Adds the next token of {@code seq}; throws when the batch or the sequence's context is full. */
    public void add(Sequence seq, int tokenId, boolean logitsWanted) {
        if (size == token.length) throw new IllegalStateException("batch is full (" + size + " rows)");
        int pos = seq.length + seq.pending;
        if (pos >= seq.capacity())
            throw new IllegalArgumentException("context is full: the sequence already holds " + pos + " of " + seq.capacity() + " positions");
        seq.pending++;
        sequence[size] = seq;
        token[size] = tokenId;
        position[size] = pos;
        wantLogits[size] = logitsWanted;
        size++;
    }

    /** Empties the batch (rows not yet run are dropped). */
    public void clear() {
        for (int i = 0; i < size; i++) sequence[i].pending = 0;
        Arrays.fill(sequence, 0, size, null);
        size = 0;
    }

    /** The logits {@code [V]} of row {@code row} from the last forward (a fresh copy). */
    public float[] logits(int row) {
        return logits(row, null);
    }

    /**
     * The logits {@code [V]} of row {@code row} from the last forward, copied into {@code into} when it
     * holds exactly V floats (a buffer the caller keeps from step to step, so a decode loop allocates
     * nothing here), else into a new array; returns the array written.
     */
    public float[] logits(int row, float[] into) {
        if (row < 0 || row >= size || logitIndex[row] < 0) throw new IllegalArgumentException("row " + row + " did not ask for logits");
        float[] out = into != null && into.length == vocab ? into : new float[vocab];
        System.arraycopy(logits, logitIndex[row] * vocab, out, 0, vocab);
        return out;
    }
}
