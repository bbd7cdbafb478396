package ai.behemoth.tokenizer;

import ai.behemoth.format.GgufFile;
import ai.behemoth.format.GgufValue;
import ai.behemoth.format.GgufValueType;
import ai.behemoth.format.GgufWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** A {@code llama} (SentencePiece) GGUF vocabulary: merges by score, byte fallback, and the space prefix. */
class SentencePieceTokenizerTest {
    @TempDir
    Path tmp;

    private final List<String> tokens = new ArrayList<>();
    private final List<Float> scores = new ArrayList<>();
    private final List<Integer> types = new ArrayList<>();

    private void add(String piece, float score, int type) {
        tokens.add(piece);
        scores.add(score);
        types.add(type);
    }

    /** <unk>, <s>, </s>, the 256 byte tokens, then pieces of a, b, c, ▁ with scores. */
    private Tokenizer vocabulary() throws IOException {
        add("<unk>", 0, 2);
        add("<s>", 0, 3);
        add("</s>", 0, 3);
        for (int b = 0; b < 256; b++) add(String.format("<0x%02X>", b), 0, SentencePieceTokenizer.BYTE);
        String[] pieces = {"▁", "a", "b", "c", "ab", "bc", "▁a", "▁ab", "abc", "ca", "▁b", "aa", "é"};
        float[] score = {-1, -2, -2, -2, -3, -2.5f, -4, -3.5f, -5, -6, -4, -3, -2};
        for (int i = 0; i < pieces.length; i++) add(pieces[i], score[i], 1);
        GgufWriter w = new GgufWriter();
        w.put("tokenizer.ggml.model", GgufValue.string("llama"));
        w.put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens));
        w.put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores));
        w.put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types));
        Path file = tmp.resolve("spm.gguf");
        w.write(file);
        try (GgufFile f = GgufFile.open(file)) {
            return GgufVocabulary.read(f);
        }
    }

    /** The naive loop: over and over, merge the adjacent pair that is the best-scored token (leftmost on ties). */
    private int[] naive(String text) {
        Map<String, Integer> id = new HashMap<>();
        for (int i = 0; i < tokens.size(); i++) if (types.get(i) == 1 || types.get(i) == SentencePieceTokenizer.BYTE) id.putIfAbsent(tokens.get(i), i);
        List<String> symbols = new ArrayList<>();
        String s = (" " + text).replace(' ', '▁');
        s.codePoints().forEach(cp -> symbols.add(Character.toString(cp)));
        while (true) {
            int best = -1;
            float bestScore = Float.NEGATIVE_INFINITY;
            for (int i = 0; i + 1 < symbols.size(); i++) {
                Integer t = id.get(symbols.get(i) + symbols.get(i + 1));
                if (t != null && scores.get(t) > bestScore) {
                    best = i;
                    bestScore = scores.get(t);
                }
            }
            if (best < 0) break;
            symbols.set(best, symbols.get(best) + symbols.remove(best + 1));
        }
        List<Integer> out = new ArrayList<>();
        for (String sym : symbols) {
            Integer t = id.get(sym);
            if (t != null) out.add(t);
            else for (byte b : sym.getBytes(StandardCharsets.UTF_8)) out.add(id.get(String.format("<0x%02X>", b & 0xff)));
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    @Test
    void handWorkedExample() throws IOException {
        Tokenizer spm = vocabulary();
        // ▁ a b c: of ▁a (-4), ab (-3), bc (-2.5), bc merges first; then ▁a (-4) beats abc (-5); ▁abc is no token.
        int[] ids = spm.encode("abc");
        assertThat(ids).containsExactly(tokens.indexOf("▁a"), tokens.indexOf("bc"));
        // "ñ" is no token: its two UTF-8 bytes as byte tokens, after the lone ▁.
        assertThat(spm.encode("ñ")).containsExactly(tokens.indexOf("▁"), tokens.indexOf("<0xC3>"), tokens.indexOf("<0xB1>"));
        assertThat(spm.decode(spm.encode("ñ a é"))).isEqualTo("ñ a é".getBytes(StandardCharsets.UTF_8));
        assertThat(spm.specialToken("</s>")).hasValue(2);
    }

    @Test
    void agreesWithTheNaiveLoopOnRandomText() throws IOException {
        Tokenizer spm = vocabulary();
        Random random = new Random(11);
        String alphabet = "aabbcc  éñ";
        for (int trial = 0; trial < 300; trial++) {
            StringBuilder sb = new StringBuilder();
            int length = 1 + random.nextInt(30);
            for (int i = 0; i < length; i++) sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
            String text = sb.toString();
            assertThat(spm.encode(text)).as(text).containsExactly(naive(text));
            assertThat(spm.decode(spm.encode(text))).as(text).isEqualTo(text.getBytes(StandardCharsets.UTF_8));
        }
    }
}
