package ai.behemoth.tokenizer;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.core.util.Separators;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Hugging Face {@code tokenizer.json} for byte-level BPE, in the layout Llama 3 uses: no
 * normalizer; pre-tokenizer Split on the Llama 3 expression (Isolated) then ByteLevel without its
 * own regex; ByteLevel post-processor and decoder; model BPE with the vocabulary as byte-level
 * strings and merges as {@code "left right"} strings (readable by every version of the library).
 * Added tokens carry the special tokens and are not in the model vocabulary.
 */
final class TokenizerJson {
    private TokenizerJson() {}

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Two-space indent, one array element a line, "key": value, the same on every platform. */
    private static final ObjectWriter PRETTY = JSON.writer(new DefaultPrettyPrinter()
            .withObjectIndenter(new DefaultIndenter("  ", "\n"))
            .withArrayIndenter(new DefaultIndenter("  ", "\n"))
            .withSeparators(Separators.createDefaultInstance().withObjectFieldValueSpacing(Separators.Spacing.AFTER)));

    static void write(Path file, byte[][] tokenBytes, int[][] merges, Map<String, Integer> specials, boolean ignoreMerges)
            throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        for (Map.Entry<String, Integer> special : specials.entrySet()) {
            added.addObject()
                    .put("id", special.getValue())
                    .put("content", special.getKey())
                    .put("single_word", false)
                    .put("lstrip", false)
                    .put("rstrip", false)
                    .put("normalized", false)
                    .put("special", true);
        }
        root.putNull("normalizer");
        root.set("pre_tokenizer", preTokenizer());
        root.set("post_processor", byteLevel(true, false, true));
        root.set("decoder", byteLevel(true, true, true));
        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.putNull("continuing_subword_prefix");
        model.putNull("end_of_word_suffix");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", ignoreMerges);
        ObjectNode vocab = model.putObject("vocab");
        for (int id = 0; id < tokenBytes.length; id++) {
            if (!specials.containsValue(id)) vocab.put(ByteLevel.encode(tokenBytes[id]), id);
        }
        ArrayNode mergeList = model.putArray("merges");
        for (int[] merge : merges) {
            mergeList.add(ByteLevel.encode(tokenBytes[merge[0]]) + " " + ByteLevel.encode(tokenBytes[merge[1]]));
        }
        byte[] text = (PRETTY.writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8);
        writeAtomically(file, text);
    }

    private static ObjectNode preTokenizer() {
        ObjectNode sequence = JSON.createObjectNode().put("type", "Sequence");
        ArrayNode steps = sequence.putArray("pretokenizers");
        ObjectNode split = steps.addObject().put("type", "Split");
        split.putObject("pattern").put("Regex", PreTokenizer.PATTERN);
        split.put("behavior", "Isolated").put("invert", false);
        steps.addObject().put("type", "ByteLevel").put("add_prefix_space", false).put("trim_offsets", true).put("use_regex", false);
        return sequence;
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace, boolean trimOffsets, boolean useRegex) {
        return JSON.createObjectNode().put("type", "ByteLevel")
                .put("add_prefix_space", addPrefixSpace).put("trim_offsets", trimOffsets).put("use_regex", useRegex);
    }

    /** Writes to a temporary file in the same folder, then renames it: never a half-written file. */
    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path folder = file.toAbsolutePath().getParent();
        if (!Files.isDirectory(folder)) throw new IOException("cannot write " + file + ": folder " + folder + " does not exist");
        Path temp = folder.resolve("." + file.getFileName() + "." + ProcessHandle.current().pid() + "." + System.nanoTime() + ".tmp");
        try {
            Files.write(temp, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(temp);
            throw new IOException("cannot write " + file + ": " + reason(e), e);
        }
    }

    private static String reason(IOException e) {
        return switch (e) {
            case AccessDeniedException a -> "permission denied";
            case FileSystemException f when f.getReason() != null -> f.getReason();
            case FileSystemException f -> e.getClass().getSimpleName().replace("Exception", "") + " on " + f.getFile();
            default -> e.getMessage();
        };
    }

    /** Reads a byte-level BPE {@code tokenizer.json}; any problem is an IOException naming the file and the field. */
    static BpeTokenizer read(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        JsonNode root;
        try {
            root = JSON.readTree(bytes);
        } catch (JacksonException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage());
        }
        Reader reader = new Reader(file);
        if (root == null || !root.isObject()) throw reader.error("the top level is not a JSON object");
        return reader.read(root);
    }

    /** The checks of one file, so that each error names it. */
    private record Reader(Path file) {
        IOException error(String message) {
            return new IOException(file + ": " + message);
        }

        BpeTokenizer read(JsonNode root) throws IOException {
            JsonNode normalizer = root.path("normalizer");
            if (!normalizer.isMissingNode() && !normalizer.isNull()) {
                throw error("normalizer is " + normalizer.path("type").asText("set") + "; Behemoth reads only tokenizers without one (normalizer: null)");
            }
            checkPreTokenizer(root.path("pre_tokenizer"));

            JsonNode model = root.get("model");
            if (model == null || !model.isObject()) throw error("field model is missing");
            String type = model.path("type").asText("");
            if (!type.equals("BPE")) throw error("model.type is '" + type + "'; only 'BPE' is supported");
            for (String unsupported : new String[]{"dropout", "continuing_subword_prefix", "end_of_word_suffix"}) {
                JsonNode value = model.path(unsupported);
                if (!value.isMissingNode() && !value.isNull() && !value.asText().isEmpty()) {
                    throw error("model." + unsupported + " is " + value + "; only null is supported");
                }
            }
            boolean ignoreMerges = model.path("ignore_merges").asBoolean(false);

            // Ids to token bytes: the model vocabulary, then the added tokens.
            JsonNode vocab = model.get("vocab");
            if (vocab == null || !vocab.isObject()) throw error("field model.vocab is missing or not an object");
            Map<Integer, byte[]> byId = new HashMap<>();
            Map<String, Integer> idOfSymbols = new HashMap<>();
            for (Map.Entry<String, JsonNode> entry : vocab.properties()) {
                String symbols = entry.getKey();
                if (!entry.getValue().canConvertToInt() || entry.getValue().asInt() < 0) {
                    throw error("model.vocab['" + symbols + "'] is " + entry.getValue() + ", not a token id");
                }
                int id = entry.getValue().asInt();
                byte[] tokenBytes = ByteLevel.decode(symbols);
                if (tokenBytes == null || tokenBytes.length == 0) {
                    throw error("model.vocab token '" + symbols + "' is not a byte-level string (GPT-2 byte-to-unicode symbols)");
                }
                if (byId.put(id, tokenBytes) != null) throw error("model.vocab gives id " + id + " to two tokens");
                idOfSymbols.put(symbols, id);
            }
            for (int b = 0; b < 256; b++) {
                String symbol = String.valueOf(ByteLevel.symbol(b));
                if (!idOfSymbols.containsKey(symbol)) {
                    throw error(String.format("model.vocab lacks the token '%s' of byte 0x%02x", symbol, b));
                }
            }
            Map<String, Integer> specials = new LinkedHashMap<>();
            JsonNode added = root.path("added_tokens");
            for (int i = 0; i < added.size(); i++) {
                JsonNode token = added.get(i);
                if (!token.path("id").canConvertToInt() || !token.path("content").isTextual()) {
                    throw error("added_tokens[" + i + "] lacks an integer id or a content string");
                }
                int id = token.get("id").asInt();
                String content = token.get("content").asText();
                byte[] contentBytes = content.getBytes(StandardCharsets.UTF_8);
                byte[] previous = byId.put(id, contentBytes);
                if (previous != null && !Arrays.equals(previous, contentBytes)) {
                    throw error("added_tokens[" + i + "] '" + content + "' has id " + id + ", which model.vocab gives to another token");
                }
                specials.put(content, id);
            }
            int size = byId.size();
            byte[][] tokenBytes = new byte[size][];
            for (int id = 0; id < size; id++) {
                tokenBytes[id] = byId.get(id);
                if (tokenBytes[id] == null) throw error("token ids are not contiguous: no token has id " + id + " (" + size + " tokens)");
            }

            JsonNode merges = model.get("merges");
            if (merges == null || !merges.isArray()) throw error("field model.merges is missing or not an array");
            int[] left = new int[merges.size()], right = new int[merges.size()];
            for (int rank = 0; rank < merges.size(); rank++) {
                String[] pair = mergePair(merges.get(rank), rank);
                left[rank] = tokenId(idOfSymbols, pair[0], rank);
                right[rank] = tokenId(idOfSymbols, pair[1], rank);
                if (!idOfSymbols.containsKey(pair[0] + pair[1])) {
                    throw error("model.merges[" + rank + "] makes '" + pair[0] + pair[1] + "', which is not in model.vocab");
                }
            }
            return new BpeTokenizer(tokenBytes, left, right, specials, ignoreMerges);
        }

        /** A merge is "left right" (all versions) or ["left", "right"] (newer versions of the library). */
        private String[] mergePair(JsonNode merge, int rank) throws IOException {
            if (merge.isTextual()) {
                String[] parts = merge.asText().split(" ", -1);
                if (parts.length == 2) return parts;
            } else if (merge.isArray() && merge.size() == 2 && merge.get(0).isTextual() && merge.get(1).isTextual()) {
                return new String[]{merge.get(0).asText(), merge.get(1).asText()};
            }
            throw error("model.merges[" + rank + "] is " + merge + ", not a pair of tokens");
        }

        private int tokenId(Map<String, Integer> idOfSymbols, String symbols, int rank) throws IOException {
            Integer id = idOfSymbols.get(symbols);
            if (id == null) throw error("model.merges[" + rank + "] refers to unknown token '" + symbols + "'");
            return id;
        }

        private void checkPreTokenizer(JsonNode pre) throws IOException {
            JsonNode split = pre.path("pretokenizers").path(0);
            JsonNode byteLevel = pre.path("pretokenizers").path(1);
            boolean supported = pre.path("type").asText().equals("Sequence")
                    && pre.path("pretokenizers").size() == 2
                    && split.path("type").asText().equals("Split")
                    && split.path("pattern").path("Regex").asText().equals(PreTokenizer.PATTERN)
                    && split.path("behavior").asText().equals("Isolated")
                    && !split.path("invert").asBoolean(false)
                    && byteLevel.path("type").asText().equals("ByteLevel")
                    && !byteLevel.path("use_regex").asBoolean(true)
                    && !byteLevel.path("add_prefix_space").asBoolean(false);
            if (!supported) {
                throw error("pre_tokenizer is not the supported one: Sequence of Split (the Llama 3 expression, Isolated) "
                        + "and ByteLevel (use_regex false, add_prefix_space false)");
            }
        }
    }
}
