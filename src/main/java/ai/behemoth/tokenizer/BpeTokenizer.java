package ai.behemoth.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;

/**
 * Byte-level BPE as in GPT-2 / Llama 3: the text is split into pre-tokens ({@link PreTokenizer}),
 * each pre-token's UTF-8 bytes start as one token per byte, and merges are applied lowest rank
 * first (leftmost first among equal ranks) until none applies. Special tokens are never produced
 * by {@link #encode}: their text in the input is ordinary text; they are appended by callers.
 *
 * <p>Encoding caches the ids of each distinct pre-token, so running text costs one scan and one
 * hash lookup per pre-token. The object is safe to share between threads.
 */
public final class BpeTokenizer implements Tokenizer {
    /** The special tokens of every trained tokenizer, in id order after the merged tokens. */
    public static final List<String> SPECIAL_TOKENS = List.of(
            "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>");

    /** The smallest vocabulary {@link #train} accepts: the 256 bytes and the special tokens. */
    public static final int MIN_VOCAB = 256 + SPECIAL_TOKENS.size();

    /** The cache forgets everything past this many pre-tokens, and skips pre-tokens longer than this many chars. */
    private static final int CACHE_LIMIT = 1 << 18, CACHED_PIECE_LIMIT = 256;

    private final byte[][] tokenBytes;
    private final int[] byteIds = new int[256];
    private final int[] mergeLeft, mergeRight, mergeResult;
    /** (left, right) to merge rank. */
    private final PairMap ranks;
    private final Map<String, Integer> specials;
    /** Hugging Face's ignore_merges (Llama 3 sets it): a pre-token that is itself a token is encoded as that token. */
    private final boolean ignoreMerges;
    /** Byte-level string of each ordinary token to its id, for ignore_merges. */
    private final Map<String, Integer> idOfSymbols;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    /**
     * @param tokenBytes the bytes of every token by id; a special token's entry is its UTF-8 text
     * @param mergeLeft  the left token id of each merge, in rank order
     * @param mergeRight the right token id of each merge, in rank order
     * @param specials   special (added) token text to id, in id order
     * @param ignoreMerges whether a pre-token that is a token is taken whole, without merging
     * @throws IllegalArgumentException when a byte has no token, or a merge's result is not a token
     */
    BpeTokenizer(byte[][] tokenBytes, int[] mergeLeft, int[] mergeRight, Map<String, Integer> specials, boolean ignoreMerges) {
        this.tokenBytes = tokenBytes;
        this.specials = Collections.unmodifiableMap(new LinkedHashMap<>(specials));
        this.ignoreMerges = ignoreMerges;
        this.idOfSymbols = new HashMap<>();
        Set<Integer> specialIds = new HashSet<>(specials.values());
        for (int id = 0; id < tokenBytes.length; id++) {
            if (!specialIds.contains(id)) idOfSymbols.putIfAbsent(ByteLevel.encode(tokenBytes[id]), id);
        }
        for (int b = 0; b < 256; b++) {
            Integer id = idOfSymbols.get(String.valueOf(ByteLevel.symbol(b)));
            if (id == null) throw new IllegalArgumentException(String.format("no token for byte 0x%02x", b));
            byteIds[b] = id;
        }
        this.mergeLeft = mergeLeft.clone();
        this.mergeRight = mergeRight.clone();
        this.mergeResult = new int[mergeLeft.length];
        this.ranks = new PairMap(mergeLeft.length);
        for (int rank = 0; rank < mergeLeft.length; rank++) {
            byte[] merged = concat(tokenBytes[mergeLeft[rank]], tokenBytes[mergeRight[rank]]);
            Integer result = idOfSymbols.get(ByteLevel.encode(merged));
            if (result == null) throw new IllegalArgumentException("merge " + rank + " makes a token that is not in the vocabulary");
            mergeResult[rank] = result;
            long key = PairMap.key(mergeLeft[rank], mergeRight[rank]);
            if (ranks.get(key, -1) < 0) ranks.put(key, rank); // a repeated merge keeps its first rank, as in Hugging Face
        }
    }

    /**
     * Trains a byte-level BPE tokenizer on {@code text}: {@code vocabSize} tokens in all, counting
     * the 256 bytes and the {@link #SPECIAL_TOKENS}. Fewer when the text runs out of pairs to merge.
     * Deterministic: the same text and size give the same tokenizer.
     */
    public static BpeTokenizer train(String text, int vocabSize) {
        return BpeTrainer.train(text, vocabSize, tokens -> {});
    }

    /** {@link #train(String, int)}, telling {@code progress} the number of tokens after each merge. */
    public static BpeTokenizer train(String text, int vocabSize, IntConsumer progress) {
        return BpeTrainer.train(text, vocabSize, progress);
    }

    /** Throws IllegalArgumentException naming {@code vocabSize} when it is too small to train. */
    public static void checkVocabSize(int vocabSize) {
        if (vocabSize < MIN_VOCAB) {
            throw new IllegalArgumentException("vocabulary size " + vocabSize + " is below the minimum " + MIN_VOCAB
                    + " (256 byte tokens and " + SPECIAL_TOKENS.size() + " special tokens)");
        }
    }

    @Override
    public int vocabSize() {
        return tokenBytes.length;
    }

    /** The number of merges (a merge whose result repeats an earlier token's bytes makes no new token). */
    public int mergeCount() {
        return mergeLeft.length;
    }

    @Override
    public int[] encode(String text) {
        IntBuffer ids = new IntBuffer(text.length() / 3 + 16);
        PreTokenizer.split(text, (start, end) -> ids.addAll(encodePiece(text.substring(start, end))));
        return ids.toArray();
    }

    /** The ids of one pre-token. */
    int[] encodePiece(String piece) {
        int[] ids = cache.get(piece);
        if (ids != null) return ids;
        byte[] bytes = piece.getBytes(StandardCharsets.UTF_8);
        Integer whole = ignoreMerges ? idOfSymbols.get(ByteLevel.encode(bytes)) : null;
        ids = whole != null ? new int[]{whole} : merge(bytes);
        if (piece.length() <= CACHED_PIECE_LIMIT) {
            if (cache.size() >= CACHE_LIMIT) cache.clear();
            cache.put(piece, ids);
        }
        return ids;
    }

    /** Applies the merges to the bytes of one pre-token, lowest rank first, leftmost first on ties. */
    private int[] merge(byte[] bytes) {
        int n = bytes.length;
        int[] symbol = new int[n], next = new int[n], prev = new int[n];
        for (int i = 0; i < n; i++) {
            symbol[i] = byteIds[bytes[i] & 0xff];
            next[i] = i + 1;
            prev[i] = i - 1;
        }
        // Candidates are (rank << 32 | position); stale ones are recognised and dropped when polled.
        PriorityQueue<Long> candidates = new PriorityQueue<>();
        for (int i = 0; i + 1 < n; i++) offer(candidates, symbol, next, i, n);
        int alive = n;
        while (!candidates.isEmpty()) {
            long candidate = candidates.poll();
            int rank = (int) (candidate >>> 32), i = (int) candidate;
            int j = next[i];
            if (symbol[i] < 0 || j >= n || ranks.get(PairMap.key(symbol[i], symbol[j]), -1) != rank) continue;
            symbol[i] = mergeResult[rank];
            symbol[j] = -1;
            next[i] = next[j];
            if (next[j] < n) prev[next[j]] = i;
            alive--;
            if (prev[i] >= 0) offer(candidates, symbol, next, prev[i], n);
            offer(candidates, symbol, next, i, n);
        }
        int[] ids = new int[alive];
        for (int i = 0, k = 0; i < n; i = next[i]) ids[k++] = symbol[i];
        return ids;
    }

    private void offer(PriorityQueue<Long> candidates, int[] symbol, int[] next, int i, int n) {
        int j = next[i];
        if (j >= n) return;
        long rank = ranks.get(PairMap.key(symbol[i], symbol[j]), -1);
        if (rank >= 0) candidates.add(rank << 32 | i);
    }

    @Override
    public byte[] decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) out.writeBytes(tokenBytes(id));
        return out.toByteArray();
    }

    @Override
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= tokenBytes.length) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary 0.." + (tokenBytes.length - 1));
        }
        return tokenBytes[id].clone();
    }

    @Override
    public OptionalInt specialToken(String text) {
        Integer id = specials.get(text);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Special token text to id, in id order. */
    public Map<String, Integer> specialTokens() {
        return specials;
    }

    @Override
    public void save(Path file) throws IOException {
        TokenizerJson.write(file, tokenBytes, merges(), specials, ignoreMerges);
    }

    /** The merges in rank order, as {left, right, result} ids. */
    int[][] merges() {
        int[][] merges = new int[mergeLeft.length][];
        for (int rank = 0; rank < merges.length; rank++) merges[rank] = new int[]{mergeLeft[rank], mergeRight[rank], mergeResult[rank]};
        return merges;
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    /** A growable int array for the ids of a text. */
    private static final class IntBuffer {
        private int[] values;
        private int size;

        IntBuffer(int capacity) {
            values = new int[capacity];
        }

        void addAll(int[] ids) {
            if (size + ids.length > values.length) values = Arrays.copyOf(values, Math.max(values.length * 2, size + ids.length));
            System.arraycopy(ids, 0, values, size, ids.length);
            size += ids.length;
        }

        int[] toArray() {
            return Arrays.copyOf(values, size);
        }
    }
}
