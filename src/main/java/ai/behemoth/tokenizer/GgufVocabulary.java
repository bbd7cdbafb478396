package ai.behemoth.tokenizer;

import ai.behemoth.format.GgufArray;
import ai.behemoth.format.GgufFile;
import ai.behemoth.format.GgufValue;
import ai.behemoth.format.GgufValueType;
import ai.behemoth.format.GgufWriter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A byte-level BPE tokenizer as GGUF metadata, the way llama.cpp stores one
 * ({@code tokenizer.ggml.model = "gpt2"}): {@code tokens} as GPT-2 byte-level strings (special
 * tokens as their text), {@code token_type} (1 normal, 3 control, 5 unused padding), {@code merges}
 * as {@code "left right"}, and {@code tokenizer.ggml.pre} naming the pre-tokenizer. Behemoth's
 * pre-tokenizer is the Llama 3 expression, which llama.cpp calls {@code llama-bpe}; llama.cpp encodes
 * that pre-tokenizer with {@code ignore_merges}, so a file read here does too. Files with the
 * {@code qwen2} pre-tokenizer (Qwen2/Qwen3: digits one at a time, no ignore_merges), the
 * {@code llama4} one (Llama 4's expression, no ignore_merges) and llama.cpp's other names for these
 * ({@link Split}) are read as well, and {@code llama} (SentencePiece) vocabularies as
 * {@link SentencePieceTokenizer}.
 */
public final class GgufVocabulary {
    private GgufVocabulary() {}

    /** llama.cpp's {@code llama_token_type} values. */
    private static final int NORMAL = 1, CONTROL = 3, USER_DEFINED = 4, UNUSED = 5;

    /**
     * Writes {@code tokenizer}'s vocabulary, padded with unused {@code [PADn]} tokens up to
     * {@code vocabSize} (llama.cpp takes the vocabulary size from the token list).
     */
    public static void write(Tokenizer tokenizer, int vocabSize, GgufWriter out) {
        Map<Integer, String> specialsById = new HashMap<>();
        int[][] merges = new int[0][];
        if (tokenizer instanceof BpeTokenizer bpe) {
            bpe.specialTokens().forEach((text, id) -> specialsById.put(id, text));
            merges = bpe.merges();
        } else if (!(tokenizer instanceof ByteTokenizer)) {
            throw new IllegalArgumentException("GGUF export supports the byte-level BPE and byte tokenizers, not "
                    + tokenizer.getClass().getSimpleName());
        }
        List<String> tokens = new ArrayList<>(vocabSize);
        List<Integer> types = new ArrayList<>(vocabSize);
        for (int id = 0; id < vocabSize; id++) {
            if (id >= tokenizer.vocabSize()) {
                tokens.add("[PAD" + id + "]");
                types.add(UNUSED);
            } else if (specialsById.containsKey(id)) {
                tokens.add(specialsById.get(id));
                types.add(CONTROL);
            } else {
                tokens.add(ByteLevel.encode(tokenizer.tokenBytes(id)));
                types.add(NORMAL);
            }
        }
        List<String> mergeStrings = new ArrayList<>(merges.length);
        for (int[] m : merges) mergeStrings.add(tokens.get(m[0]) + " " + tokens.get(m[1]));
        out.put("tokenizer.ggml.model", GgufValue.string("gpt2"));
        out.put("tokenizer.ggml.pre", GgufValue.string("llama-bpe"));
        out.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        out.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        out.put("tokenizer.ggml.merges", GgufValue.array(GgufValueType.STRING, mergeStrings));
        tokenizer.specialToken("<|begin_of_text|>").ifPresent(id -> out.put("tokenizer.ggml.bos_token_id", GgufValue.uint32(id)));
        tokenizer.specialToken("<|end_of_text|>").ifPresent(id -> out.put("tokenizer.ggml.eos_token_id", GgufValue.uint32(id)));
        tokenizer.specialToken("<|eot_id|>").ifPresent(id -> out.put("tokenizer.ggml.eot_token_id", GgufValue.uint32(id)));
        // Behemoth encodes prompts without a leading BOS; so must llama.cpp for the same token ids.
        out.put("tokenizer.ggml.add_bos_token", GgufValue.bool(false));
    }

    /** Reads the {@code gpt2} tokenizer of {@code file}; anything else is an IOException naming the file and key. */
    public static Tokenizer read(GgufFile file) throws IOException {
        String model = file.getString("tokenizer.ggml.model");
        if (model.equals("llama")) return readSentencePiece(file);
        if (!model.equals("gpt2"))
            throw new IOException(file.path() + ": tokenizer.ggml.model is '" + model + "'; Behemoth reads 'gpt2' (byte-level BPE) and 'llama' (SentencePiece)");
        String pre = file.metadata().containsKey("tokenizer.ggml.pre") ? file.getString("tokenizer.ggml.pre") : "default";
        Split split = Split.named(pre);
        if (split == null)
            throw new IOException(file.path() + ": tokenizer.ggml.pre is '" + pre + "'; Behemoth has the pre-tokenizers " + Split.supported());
        List<?> tokens = array(file, "tokenizer.ggml.tokens", GgufValueType.STRING);
        List<?> types = file.metadata().containsKey("tokenizer.ggml.token_type") ? array(file, "tokenizer.ggml.token_type", GgufValueType.INT32) : null;
        if (types != null && types.size() != tokens.size())
            throw new IOException(file.path() + ": tokenizer.ggml.token_type has " + types.size() + " entries for " + tokens.size() + " tokens");
        byte[][] tokenBytes = new byte[tokens.size()][];
        Map<String, Integer> specials = new LinkedHashMap<>();
        Map<String, Integer> idOfSymbols = new HashMap<>();
        for (int id = 0; id < tokens.size(); id++) {
            String text = (String) tokens.get(id);
            int type = types == null ? NORMAL : (Integer) types.get(id);
            if (type == CONTROL || type == USER_DEFINED || type == UNUSED) {
                tokenBytes[id] = text.getBytes(StandardCharsets.UTF_8);
                specials.putIfAbsent(text, id);
            } else {
                tokenBytes[id] = ByteLevel.decode(text);
                if (tokenBytes[id] == null || tokenBytes[id].length == 0)
                    throw new IOException(file.path() + ": tokenizer.ggml.tokens[" + id + "] '" + text + "' is not a byte-level string");
                idOfSymbols.putIfAbsent(text, id);
            }
        }
        List<?> merges = file.metadata().containsKey("tokenizer.ggml.merges") ? array(file, "tokenizer.ggml.merges", GgufValueType.STRING) : List.of();
        int[] left = new int[merges.size()], right = new int[merges.size()];
        for (int rank = 0; rank < merges.size(); rank++) {
            String[] pair = ((String) merges.get(rank)).split(" ", -1);
            Integer l = pair.length == 2 ? idOfSymbols.get(pair[0]) : null, r = pair.length == 2 ? idOfSymbols.get(pair[1]) : null;
            if (l == null || r == null)
                throw new IOException(file.path() + ": tokenizer.ggml.merges[" + rank + "] '" + merges.get(rank) + "' is not a pair of known tokens");
            left[rank] = l;
            right[rank] = r;
        }
        try {
            BpeTokenizer bpe = new BpeTokenizer(tokenBytes, left, right, specials, split.ignoreMerges);
            return switch (split) {
                case LLAMA3, LLAMA3_MERGING -> bpe;
                case QWEN2 -> new SplitBpeTokenizer(bpe, "qwen2", PreTokenizer::splitSingleDigits);
                case LLAMA4 -> new SplitBpeTokenizer(bpe, "llama4", PreTokenizer::splitLlama4);
            };
        } catch (IllegalArgumentException e) {
            throw new IOException(file.path() + ": tokenizer: " + e.getMessage(), e);
        }
    }

    /**
     * The {@code tokenizer.ggml.pre} names Behemoth reads, grouped as llama.cpp's {@code llama-vocab.cpp}
     * groups them: the same expression and the same {@code ignore_merges}.
     */
    private enum Split {
        /** Llama 3's expression with ignore_merges: Llama 3.x, Falcon 3. */
        LLAMA3(true, "llama-bpe", "llama3", "llama-v3", "falcon3"),
        /** Llama 3's expression, merging every pre-token (llama.cpp's dbrx and smaug). */
        LLAMA3_MERGING(false, "smaug-bpe", "dbrx"),
        /** Llama 3's expression with single digits (Qwen2/Qwen3). */
        QWEN2(false, "qwen2", "megrez"),
        /** Llama 4's expression (GPT-4o's). */
        LLAMA4(false, "llama4", "gpt-4o");

        final boolean ignoreMerges;
        final List<String> names;

        Split(boolean ignoreMerges, String... names) {
            this.ignoreMerges = ignoreMerges;
            this.names = List.of(names);
        }

        static Split named(String name) {
            for (Split s : values()) if (s.names.contains(name)) return s;
            return null;
        }

        static String supported() {
            List<String> all = new ArrayList<>();
            for (Split s : values()) all.addAll(s.names);
            return "'" + String.join("', '", all) + "'";
        }
    }

    /** A {@code llama} (SentencePiece) vocabulary: tokens, scores, token types, and {@code add_space_prefix} (default true). */
    private static Tokenizer readSentencePiece(GgufFile file) throws IOException {
        List<?> tokens = array(file, "tokenizer.ggml.tokens", GgufValueType.STRING);
        List<?> scores = array(file, "tokenizer.ggml.scores", GgufValueType.FLOAT32);
        List<?> types = array(file, "tokenizer.ggml.token_type", GgufValueType.INT32);
        if (scores.size() != tokens.size() || types.size() != tokens.size())
            throw new IOException(file.path() + ": tokenizer.ggml.scores and token_type must have one entry per token (" + tokens.size() + ")");
        String[] pieces = new String[tokens.size()];
        float[] score = new float[pieces.length];
        int[] type = new int[pieces.length];
        Map<String, Integer> specials = new LinkedHashMap<>();
        for (int id = 0; id < pieces.length; id++) {
            pieces[id] = (String) tokens.get(id);
            score[id] = (Float) scores.get(id);
            type[id] = (Integer) types.get(id);
            if (type[id] == CONTROL) specials.putIfAbsent(pieces[id], id);
        }
        GgufValue prefix = file.metadata().get("tokenizer.ggml.add_space_prefix");
        boolean addSpacePrefix = prefix == null || Boolean.TRUE.equals(prefix.value());
        int unknown = file.metadata().containsKey("tokenizer.ggml.unknown_token_id") ? (int) file.getLong("tokenizer.ggml.unknown_token_id") : 0;
        if (unknown < 0 || unknown >= pieces.length)
            throw new IOException(file.path() + ": tokenizer.ggml.unknown_token_id " + unknown + " is not a token");
        return new SentencePieceTokenizer(pieces, score, type, specials, addSpacePrefix, unknown);
    }

    private static List<?> array(GgufFile file, String key, GgufValueType elementType) throws IOException {
        GgufValue v = file.get(key);
        if (!(v.value() instanceof GgufArray a) || a.elementType() != elementType)
            throw new IOException(file.path() + ": metadata " + key + " must be an array of " + elementType);
        return a.items();
    }
}
