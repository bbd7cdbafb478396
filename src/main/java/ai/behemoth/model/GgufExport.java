package ai.behemoth.model;

import ai.behemoth.format.GgufValue;
import ai.behemoth.format.GgufWriter;
import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Quant;
import ai.behemoth.tokenizer.GgufVocabulary;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Writes a checkpoint as a GGUF file that llama.cpp loads: the architecture picked from the config
 * ({@link GgufArchitecture}), llama.cpp's tensor names and shapes, the tokenizer as a {@code gpt2}
 * vocabulary. Weight matrices get the requested type; norms and the MoE routers stay F32 (as
 * llama.cpp's converter and {@code llama-quantize} keep them). Q and K rows are permuted for the
 * architectures whose RoPE rotates adjacent pairs; {@link GgufWeights} undoes it on load.
 */
public final class GgufExport {
    private GgufExport() {}

    /** Exports {@code checkpoint} to {@code out} (written to a temporary name, then renamed). */
    public static void export(Path checkpoint, GgmlType type, Path out) throws IOException {
        int fileType = switch (type) {
            case F32 -> 0;
            case F16 -> 1;
            case Q4_0 -> 2;
            case Q8_0 -> 7;
            default -> throw new IllegalArgumentException("GGUF export writes f32, f16, q8_0 or q4_0, not " + type);
        };
        try (ModelWeights w = CheckpointWeights.load(checkpoint, null)) {
            ModelConfig c = w.config();
            GgufArchitecture arch = GgufArchitecture.of(c, w.layers().stream().anyMatch(GgufExport::hasSelectionBias));
            GgufWriter g = new GgufWriter();
            g.put("general.name", GgufValue.string(String.valueOf(checkpoint.toAbsolutePath().normalize().getFileName())));
            g.put("general.file_type", GgufValue.uint32(fileType));
            if (type.blockSize > 1) g.put("general.quantization_version", GgufValue.uint32(2));
            arch.writeHyperParameters(c, g);
            GgufVocabulary.write(w.tokenizer(), c.vocabSize(), g);
            if (w.chatTemplate() != null) g.put("tokenizer.chat_template", GgufValue.string(w.chatTemplate()));

            matrix(g, "token_embd.weight", w.embedding(), type, 0, 1);
            int hd = arch.permutesQk ? c.headDim() : 0;
            for (int l = 0; l < c.layers(); l++) {
                LayerWeights x = w.layers().get(l);
                String b = "blk." + l + ".";
                vector(g, b + "attn_norm.weight", x.attentionNorm());
                matrix(g, b + "attn_q.weight", x.wq(), type, hd, 1);
                matrix(g, b + "attn_k.weight", x.wk(), type, hd, 1);
                matrix(g, b + "attn_v.weight", x.wv(), type, 0, 1);
                matrix(g, b + "attn_output.weight", x.wo(), type, 0, 1);
                if (x.qNorm() != null) {
                    vector(g, b + "attn_q_norm.weight", x.qNorm());
                    vector(g, b + "attn_k_norm.weight", x.kNorm());
                }
                vector(g, b + "ffn_norm.weight", x.ffnNorm());
                if (x.isMoe()) {
                    matrix(g, b + "ffn_gate_inp.weight", x.router(), GgmlType.F32, 0, 1);
                    matrix(g, b + "ffn_gate_exps.weight", x.expertGate(), type, 0, c.experts());
                    matrix(g, b + "ffn_up_exps.weight", x.expertUp(), type, 0, c.experts());
                    matrix(g, b + "ffn_down_exps.weight", x.expertDown(), type, 0, c.experts());
                    if (x.sharedGate() != null) {
                        matrix(g, b + "ffn_gate_shexp.weight", x.sharedGate(), type, 0, 1);
                        matrix(g, b + "ffn_up_shexp.weight", x.sharedUp(), type, 0, 1);
                        matrix(g, b + "ffn_down_shexp.weight", x.sharedDown(), type, 0, 1);
                    }
                } else {
                    matrix(g, b + "ffn_gate.weight", x.gate(), type, 0, 1);
                    matrix(g, b + "ffn_up.weight", x.up(), type, 0, 1);
                    matrix(g, b + "ffn_down.weight", x.down(), type, 0, 1);
                }
            }
            vector(g, "output_norm.weight", w.norm());
            if (!c.tiedEmbeddings()) matrix(g, "output.weight", w.output(), type, 0, 1);
            g.write(out);
        } catch (IllegalArgumentException e) {
            throw new IOException(checkpoint + ": " + e.getMessage(), e);
        }
    }

    /** A selection bias that is all zeros (training without aux-loss-free balancing saves one) changes nothing. */
    private static boolean hasSelectionBias(LayerWeights layer) {
        if (layer.routerBias() == null) return false;
        for (float b : layer.routerBias()) if (b != 0) return true;
        return false;
    }

    private static void vector(GgufWriter g, String name, float[] v) {
        g.addTensor(name, GgmlType.F32, new long[]{v.length}, v);
    }

    /**
     * Adds {@code m} as {@code type}: 2-D {@code {cols, rows}}, or for {@code stack > 1} experts 3-D
     * {@code {cols, rows/stack, stack}}. With {@code permuteHeadDim > 0} the rows go in llama.cpp's
     * pair-rotating order. Rows are converted one at a time when the file is written.
     */
    private static void matrix(GgufWriter g, String name, Matrix m, GgmlType type, int permuteHeadDim, int stack) {
        int cols = m.cols();
        long[] dims = stack > 1 ? new long[]{cols, m.rows() / stack, stack} : new long[]{cols, m.rows()};
        g.addTensor(name, type, dims, dst -> {
            float[] row = new float[cols];
            long rowBytes = type.rowBytes(cols);
            for (int r = 0; r < m.rows(); r++) {
                m.row(permuteHeadDim > 0 ? GgufArchitecture.originalRow(r, permuteHeadDim) : r, row, 0);
                Quant.quantize(type, row, 0, cols, dst, r * rowBytes);
            }
        });
    }
}
