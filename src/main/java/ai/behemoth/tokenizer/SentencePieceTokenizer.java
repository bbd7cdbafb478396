package ai.behemoth.tokenizer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalInt;
import java.util.PriorityQueue;

/**
 * SentencePiece-style tokenizer as llama.cpp runs a GGUF {@code tokenizer.ggml.model = "llama"}:
 * spaces become {@code ▁} (and one is put in front of the text when {@code add_space_prefix}), the
 * text starts as one symbol per character, and the adjacent pair whose concatenation is the token
 * with the highest score is merged first (the leftmost among equal scores) until no pair is a token.
 * A character that is no token is written as its UTF-8 bytes, each the byte token {@code <0xXX>}
 * (byte fallback), or the unknown token when there is none. {@link #decode} drops the space that
 * {@code add_space_prefix} put in front, so that decoding gives back the text.
 */
final class SentencePieceTokenizer implements Tokenizer {
    /** llama.cpp's {@code llama_token_type} for a byte token {@code <0xXX>}. */
    static final int BYTE = 6;

    private final String[] pieces;
    private final float[] scores;
    private final int[] types;
    private final Map<String, Integer> idOf = new HashMap<>();
    private final int[] byteIds = new int[256];
    private final Map<String, Integer> specials;
    private final boolean addSpacePrefix;
    private final int unknown;

    /**
     * @param specials control tokens (text to id), found by {@link #specialToken} and never produced by {@link #encode}
     */
    SentencePieceTokenizer(String[] pieces, float[] scores, int[] types, Map<String, Integer> specials, boolean addSpacePrefix, int unknown) {
        this.pieces = pieces;
        this.scores = scores;
        this.types = types;
        this.specials = Map.copyOf(specials);
        this.addSpacePrefix = addSpacePrefix;
        this.unknown = unknown;
        for (int id = 0; id < pieces.length; id++) if (!specials.containsKey(pieces[id])) idOf.putIfAbsent(pieces[id], id);
        Arrays.fill(byteIds, -1);
        for (int b = 0; b < 256; b++) {
            Integer id = idOf.get(String.format("<0x%02X>", b));
            if (id != null) byteIds[b] = id;
        }
    }

    @Override
    public int vocabSize() {
        return pieces.length;
    }

    private record Bigram(float score, int left, int right, int length) {}

    @Override
    public int[] encode(String text) {
        if (text.isEmpty()) return new int[0];
        String s = ((addSpacePrefix ? " " : "") + text).replace(' ', '\u2581');
        int n = s.codePointCount(0, s.length());
        int[] start = new int[n], end = new int[n], prev = new int[n], next = new int[n];
        for (int i = 0, at = 0; i < n; i++) {
            start[i] = at;
            at = s.offsetByCodePoints(at, 1);
            end[i] = at;
            prev[i] = i - 1;
            next[i] = i + 1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>((a, b) -> a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 0; i + 1 < n; i++) offer(queue, s, start, end, i, i + 1);
        boolean[] gone = new boolean[n];
        while (!queue.isEmpty()) {
            Bigram b = queue.poll();
            int l = b.left, r = b.right;
            if (gone[l] || gone[r] || next[l] != r || end[r] - start[l] != b.length) continue; // stale
            end[l] = end[r];
            gone[r] = true;
            next[l] = next[r];
            if (next[r] < n) prev[next[r]] = l;
            if (prev[l] >= 0) offer(queue, s, start, end, prev[l], l);
            if (next[l] < n) offer(queue, s, start, end, l, next[l]);
        }
        int[] ids = new int[s.length() * 4];
        int k = 0;
        for (int i = 0; i < n; i = next[i]) {
            String symbol = s.substring(start[i], end[i]);
            Integer id = idOf.get(symbol);
            if (id != null) {
                ids[k++] = id;
                continue;
            }
            for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) ids[k++] = byteIds[b & 0xff] >= 0 ? byteIds[b & 0xff] : unknown;
        }
        return Arrays.copyOf(ids, k);
    }

    private void offer(PriorityQueue<Bigram> queue, String s, int[] start, int[] end, int l, int r) {
        Integer id = idOf.get(s.substring(start[l], end[r]));
        if (id != null) queue.add(new Bigram(scores[id], l, r, end[r] - start[l]));
    }

    @Override
    public byte[] decode(int[] ids) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < ids.length; i++) {
            byte[] b = tokenBytes(ids[i]);
            int skip = i == 0 && addSpacePrefix && b.length > 0 && b[0] == ' ' ? 1 : 0;
            out.write(b, skip, b.length - skip);
        }
        return out.toByteArray();
    }

    @Override
    public byte[] tokenBytes(int id) {
        if (id < 0 || id >= pieces.length) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary 0.." + (pieces.length - 1));
        if (types[id] == BYTE && pieces[id].length() == 6 && pieces[id].startsWith("<0x"))
            return new byte[]{(byte) Integer.parseInt(pieces[id].substring(3, 5), 16)};
        return pieces[id].replace('\u2581', ' ').getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public OptionalInt specialToken(String text) {
        Integer id = specials.get(text);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    @Override
    public void save(Path file) throws IOException {
        throw new IOException(file + ": Behemoth writes only byte-level BPE as tokenizer.json, not a SentencePiece vocabulary");
    }
}
