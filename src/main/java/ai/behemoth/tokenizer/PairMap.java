package ai.behemoth.tokenizer;

import java.util.Arrays;

/**
 * A map from a pair of token ids to a long (a merge rank, a pair count), with open addressing so
 * that the hot loops of BPE encoding and training neither box nor allocate.
 */
final class PairMap {
    private static final long EMPTY = -1;

    private long[] keys;
    private long[] values;
    private int size;

    PairMap(int expected) {
        int capacity = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        values = new long[capacity];
        Arrays.fill(keys, EMPTY);
    }

    /** The key of the pair (left, right); ids are non-negative ints. */
    static long key(int left, int right) {
        return ((long) left << 32) | (right & 0xffffffffL);
    }

    static int left(long key) {
        return (int) (key >>> 32);
    }

    static int right(long key) {
        return (int) key;
    }

    int size() {
        return size;
    }

    long get(long key, long absent) {
        int mask = keys.length - 1;
        for (int slot = hash(key) & mask; ; slot = (slot + 1) & mask) {
            long k = keys[slot];
            if (k == key) return values[slot];
            if (k == EMPTY) return absent;
        }
    }

    void put(long key, long value) {
        int slot = slotFor(key); // first: it may grow the arrays
        values[slot] = value;
    }

    /** Adds {@code delta} to the value of {@code key} (absent counts as 0) and returns the sum. */
    long add(long key, long delta) {
        int slot = slotFor(key); // first: it may grow the arrays
        return values[slot] += delta;
    }

    /** The slot holding {@code key}, inserting it with value 0 when absent. */
    private int slotFor(long key) {
        int mask = keys.length - 1;
        int slot = hash(key) & mask;
        while (true) {
            long k = keys[slot];
            if (k == key) return slot;
            if (k == EMPTY) break;
            slot = (slot + 1) & mask;
        }
        if ((size + 1) * 2 > keys.length) {
            grow();
            return slotFor(key);
        }
        keys[slot] = key;
        values[slot] = 0;
        size++;
        return slot;
    }

    private void grow() {
        long[] oldKeys = keys, oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) {
            if (oldKeys[i] != EMPTY) put(oldKeys[i], oldValues[i]);
        }
    }

    private static int hash(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 29));
    }
}
