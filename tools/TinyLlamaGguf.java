import ai.behemoth.format.*;
import ai.behemoth.tensor.quant.GgmlType;
import java.nio.file.Path;
import java.util.*;
/**
 * A tiny random-weight llama model (1 layer, 64 wide, SentencePiece-style vocabulary of byte tokens
 * and a few words) written as F32 GGUF by Behemoth's GgufWriter, for interop checks with llama.cpp:
 *   java --add-modules jdk.incubator.vector -cp target/behemoth-all.jar tools/TinyLlamaGguf.java OUT.gguf
 */
public class TinyLlamaGguf {
    public static void main(String[] args) throws Exception {
        int dim = 64, heads = 4, ff = 128;
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Integer> types = new ArrayList<>(List.of(2, 3, 3));
        for (int b = 0; b < 256; b++) { tokens.add(String.format("<0x%02X>", b)); types.add(6); }
        for (String w : new String[]{"▁the", "▁a", "▁cat", "▁dog", "▁sat", "▁on", "▁mat", "▁and", "▁is", "▁it", "▁was", "▁of", "▁to"}) { tokens.add(w); types.add(1); }
        int vocab = tokens.size();
        List<Float> scores = new ArrayList<>();
        for (int i = 0; i < vocab; i++) scores.add(i < 259 ? 0f : -i);
        GgufWriter w = new GgufWriter()
            .put("general.architecture", GgufValue.string("llama"))
            .put("general.name", GgufValue.string("behemoth-tiny"))
            .put("general.file_type", GgufValue.uint32(0))
            .put("llama.context_length", GgufValue.uint32(128))
            .put("llama.embedding_length", GgufValue.uint32(dim))
            .put("llama.block_count", GgufValue.uint32(1))
            .put("llama.feed_forward_length", GgufValue.uint32(ff))
            .put("llama.attention.head_count", GgufValue.uint32(heads))
            .put("llama.attention.head_count_kv", GgufValue.uint32(heads))
            .put("llama.rope.dimension_count", GgufValue.uint32(dim / heads))
            .put("llama.attention.layer_norm_rms_epsilon", GgufValue.float32(1e-5f))
            .put("tokenizer.ggml.model", GgufValue.string("llama"))
            .put("tokenizer.ggml.tokens", GgufValue.array(GgufValueType.STRING, tokens))
            .put("tokenizer.ggml.scores", GgufValue.array(GgufValueType.FLOAT32, scores))
            .put("tokenizer.ggml.token_type", GgufValue.array(GgufValueType.INT32, types))
            .put("tokenizer.ggml.bos_token_id", GgufValue.uint32(1))
            .put("tokenizer.ggml.eos_token_id", GgufValue.uint32(2))
            .put("tokenizer.ggml.unknown_token_id", GgufValue.uint32(0));
        Random rng = new Random(42);
        add(w, rng, "token_embd.weight", dim, vocab);
        ones(w, "output_norm.weight", dim);
        add(w, rng, "output.weight", dim, vocab);
        ones(w, "blk.0.attn_norm.weight", dim);
        for (String t : new String[]{"attn_q", "attn_k", "attn_v", "attn_output"}) add(w, rng, "blk.0." + t + ".weight", dim, dim);
        ones(w, "blk.0.ffn_norm.weight", dim);
        add(w, rng, "blk.0.ffn_gate.weight", dim, ff);
        add(w, rng, "blk.0.ffn_up.weight", dim, ff);
        add(w, rng, "blk.0.ffn_down.weight", ff, dim);
        w.write(Path.of(args[0]));
    }
    static void add(GgufWriter w, Random rng, String name, long cols, long rows) {
        float[] v = new float[(int) (cols * rows)];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rng.nextGaussian() * 0.2);
        w.addTensor(name, GgmlType.F32, new long[]{cols, rows}, v);
    }
    static void ones(GgufWriter w, String name, long n) {
        float[] v = new float[(int) n];
        Arrays.fill(v, 1f);
        w.addTensor(name, GgmlType.F32, new long[]{n}, v);
    }
}
