package ai.behemoth.model;

import ai.behemoth.format.GgufFile;
import ai.behemoth.format.GgufTensorInfo;
import ai.behemoth.format.GgufValue;
import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tokenizer.GgufVocabulary;
import ai.behemoth.tokenizer.Tokenizer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Loads a GGUF file of architecture {@code llama}, {@code qwen3}, {@code qwen3moe} or {@code llama4} as
 * {@link ModelWeights}: the config from the {@code <arch>.*} keys ({@link GgufArchitecture}), the
 * tokenizer from {@code tokenizer.ggml.*} ({@link GgufVocabulary}), the weights from the
 * {@code blk.N.*} tensors, memory-mapped. Every tensor the config needs must be there with exactly
 * the shape it needs, and no other tensor may be: anything else is an IOException naming the file
 * and the tensor; {@code rope_freqs.weight} is optional for llama and llama4, and llama's
 * experts may be stored one tensor per expert, as older Mixtral files do ({@link Reader#experts}).
 * Q and K rows stored in llama.cpp's pair-rotating order are put back in Behemoth's (rows copied as
 * stored, so any type works).
 */
public final class GgufWeights {
    private GgufWeights() {}

    /**
     * The optional RoPE frequency divisors, one per rotated pair, that llama.cpp's converter writes
     * for Llama 3.1+ and Llama 4 ({@code rope_scaling.rope_type} "llama3").
     */
    private static final String ROPE_FREQS = "rope_freqs.weight";

    /** @param quantize the type to convert matrices to on load, or null to use them as stored */
    public static ModelWeights load(Path path, GgmlType quantize) throws IOException {
        GgufFile f = GgufFile.open(path);
        Arena arena = Arena.ofShared();
        try {
            GgufArchitecture arch = GgufArchitecture.named(f.getString("general.architecture"), f);
            Tokenizer tokenizer = GgufVocabulary.read(f);
            ModelConfig c = arch.readConfig(f, tokenizer.vocabSize(), f.tensor("output.weight") == null);
            Reader r = new Reader(f, quantize, arena);
            int dim = c.dim(), hd = arch.permutesQk ? c.headDim() : 0;
            Matrix embedding = r.matrix("token_embd.weight", 0, dim, c.vocabSize());
            List<LayerWeights> layers = new ArrayList<>();
            for (int l = 0; l < c.layers(); l++) {
                String b = "blk." + l + ".";
                boolean moe = c.isMoeLayer(l), shared = moe && c.sharedExpertHidden() > 0;
                boolean qkWeights = c.qkNorm() == ModelConfig.QkNorm.RMS_WEIGHT;
                int e = c.experts(), he = c.expertHidden(), hs = c.sharedExpertHidden(), ff = c.ffnHidden();
                layers.add(new LayerWeights(
                        r.vector(b + "attn_norm.weight", dim),
                        r.matrix(b + "attn_q.weight", hd, dim, c.qDim()), r.matrix(b + "attn_k.weight", hd, dim, c.kvDim()),
                        r.matrix(b + "attn_v.weight", 0, dim, c.kvDim()), r.matrix(b + "attn_output.weight", 0, c.qDim(), dim),
                        qkWeights ? r.vector(b + "attn_q_norm.weight", c.headDim()) : null,
                        qkWeights ? r.vector(b + "attn_k_norm.weight", c.headDim()) : null,
                        r.vector(b + "ffn_norm.weight", dim),
                        moe ? null : r.matrix(b + "ffn_gate.weight", 0, dim, ff),
                        moe ? null : r.matrix(b + "ffn_up.weight", 0, dim, ff),
                        moe ? null : r.matrix(b + "ffn_down.weight", 0, ff, dim),
                        moe ? r.matrix(b + "ffn_gate_inp.weight", 0, dim, e) : null,
                        moe ? r.experts(b, "ffn_gate", dim, he, e, arch == GgufArchitecture.LLAMA) : null,
                        moe ? r.experts(b, "ffn_up", dim, he, e, arch == GgufArchitecture.LLAMA) : null,
                        moe ? r.experts(b, "ffn_down", he, dim, e, arch == GgufArchitecture.LLAMA) : null,
                        null,
                        shared ? r.matrix(b + "ffn_gate_shexp.weight", 0, dim, hs) : null,
                        shared ? r.matrix(b + "ffn_up_shexp.weight", 0, dim, hs) : null,
                        shared ? r.matrix(b + "ffn_down_shexp.weight", 0, hs, dim) : null));
            }
            float[] norm = r.vector("output_norm.weight", dim);
            Matrix output = c.tiedEmbeddings() ? embedding : r.matrix("output.weight", 0, dim, c.vocabSize());
            float[] ropeFactors = ropeFactors(arch, f, r, c.headDim() / 2);
            r.checkAllUsed();
            GgufValue template = f.metadata().get("tokenizer.chat_template");
            String chatTemplate = template != null && template.value() instanceof String s ? s : null;
            AutoCloseable resources = () -> {
                arena.close();
                f.close();
            };
            return new ModelWeights(c, tokenizer, embedding, List.copyOf(layers), norm, output, chatTemplate, resources, ropeFactors);
        } catch (IOException | RuntimeException e) {
            arena.close();
            f.close();
            if (e instanceof IllegalArgumentException || e instanceof UnsupportedOperationException)
                throw new IOException(path + ": " + e.getMessage(), e);
            throw e;
        }
    }

    /**
     * The divisors of the RoPE frequencies: {@code rope_freqs.weight} where the architecture has it,
     * times the linear scaling factor of {@code rope.scaling.*} (llama.cpp divides the angle of pair i
     * by both); null when both are absent.
     */
    private static float[] ropeFactors(GgufArchitecture arch, GgufFile f, Reader r, int pairs) throws IOException {
        float[] factors = arch.hasRopeFreqs && f.tensor(ROPE_FREQS) != null ? r.ropeFactors(pairs) : null;
        double scale = arch.ropeScale(f);
        if (scale == 1) return factors;
        if (factors == null) {
            factors = new float[pairs];
            Arrays.fill(factors, 1f);
        }
        for (int i = 0; i < pairs; i++) factors[i] = (float) (factors[i] * scale);
        return factors;
    }

    /** Reads tensors by name, checking each one's dims, and remembering which were used. */
    private static final class Reader {
        private final GgufFile file;
        private final GgmlType quantize;
        private final Arena arena;
        private final Set<String> used = new HashSet<>();

        Reader(GgufFile file, GgmlType quantize, Arena arena) {
            this.file = file;
            this.quantize = quantize;
            this.arena = arena;
        }

        /** The tensor {@code name}, which must have exactly {@code dims} (ggml order). */
        private GgufTensorInfo tensor(String name, long... dims) throws IOException {
            GgufTensorInfo t = file.tensor(name);
            if (t == null) throw new IOException(file.path() + ": missing tensor " + name);
            if (!Arrays.equals(t.dims(), dims))
                throw new IOException(file.path() + ": tensor " + name + " has dims " + Arrays.toString(t.dims())
                        + ", the config needs " + Arrays.toString(dims));
            used.add(name);
            return t;
        }

        float[] vector(String name, int n) throws IOException {
            return file.readFloats(tensor(name, n));
        }

        /** The {@code pairs} RoPE frequency divisors, each positive and finite (a zero would turn every angle infinite). */
        float[] ropeFactors(int pairs) throws IOException {
            float[] factors = vector(ROPE_FREQS, pairs);
            for (int i = 0; i < pairs; i++)
                if (!(factors[i] > 0 && factors[i] < Float.POSITIVE_INFINITY))
                    throw new IOException(file.path() + ": tensor " + ROPE_FREQS + " holds " + factors[i] + " at " + i
                            + "; RoPE frequency factors must be positive and finite");
            return factors;
        }

        /**
         * A matrix of {@code rows} rows of {@code cols} ({@code experts} such matrices stacked, when
         * given), its rows put back from llama.cpp's order when {@code permuteHeadDim > 0}, and
         * converted when asked.
         */
        Matrix matrix(String name, int permuteHeadDim, int cols, int rows, int... experts) throws IOException {
            GgufTensorInfo t = experts.length == 0 ? tensor(name, cols, rows) : tensor(name, cols, rows, experts[0]);
            int allRows = (int) t.rows();
            Matrix m = new Matrix(name, t.type(), file.tensorData(t), allRows, cols);
            boolean convert = quantize != null && quantize != t.type();
            if (permuteHeadDim == 0) return convert ? CheckpointWeights.convert(m, quantize, arena, file.path()) : kept(m);
            // The reordered copy is kept, or only converted from and then freed; the file's pages are released either way.
            try (Arena scratch = convert ? Arena.ofShared() : null) {
                Matrix permuted = permuted(m, permuteHeadDim, convert ? scratch : quantize != null ? arena : null);
                if (m.data().isMapped()) m.data().unload();
                return convert ? CheckpointWeights.convert(permuted, quantize, arena, file.path()) : permuted;
            }
        }

        /**
         * The {@code experts} stacked matrices of {@code rows} rows of {@code cols} of a layer's
         * {@code kind} (ffn_gate, ffn_up, ffn_down) in block {@code block}: the tensor
         * {@code <kind>_exps.weight}, or, where {@code perExpertAllowed} (llama) and that tensor is
         * absent but {@code <kind>.0.weight} is there, one tensor {@code <kind>.E.weight} per expert
         * as llama.cpp's converter wrote Mixtral before it stacked experts (2024; TheBloke's files).
         * Those must all be there, with the same dims and type; stored back to back in expert order
         * they are used in place, otherwise (the converter interleaved gate, down and up of each
         * expert) they are copied once into one buffer, and the file's pages released.
         */
        Matrix experts(String block, String kind, int cols, int rows, int experts, boolean perExpertAllowed) throws IOException {
            String stacked = block + kind + "_exps.weight";
            if (!perExpertAllowed || file.tensor(stacked) != null || file.tensor(block + kind + ".0.weight") == null)
                return matrix(stacked, 0, cols, rows, experts);
            GgufTensorInfo[] parts = new GgufTensorInfo[experts];
            for (int x = 0; x < experts; x++) {
                String name = block + kind + "." + x + ".weight";
                if (file.tensor(name) == null)
                    throw new IOException(file.path() + ": missing tensor " + name + " (expert " + x + " of " + experts
                            + "; this file stores " + block + kind + " one tensor per expert)");
                parts[x] = tensor(name, cols, rows);
                if (parts[x].type() != parts[0].type())
                    throw new IOException(file.path() + ": tensor " + name + " has type " + parts[x].type() + ", expert 0 has "
                            + parts[0].type() + "; the experts of a layer must share one type");
            }
            long bytes = parts[0].byteSize();
            boolean inPlace = true;
            for (int x = 1; x < experts; x++) inPlace &= parts[x].offset() == parts[0].offset() + x * bytes;
            boolean convert = quantize != null && quantize != parts[0].type();
            // A copy only converted from lives in a scratch arena, freed once converted.
            try (Arena scratch = convert && !inPlace ? Arena.ofShared() : null) {
                MemorySegment data;
                if (inPlace) {
                    data = file.data().asSlice(parts[0].offset(), experts * bytes);
                } else {
                    List<MemorySegment> segments = new ArrayList<>();
                    for (int x = 0; x < experts; x++) segments.add(file.tensorData(parts[x]));
                    boolean nativeCopy = quantize != null;
                    data = nativeCopy ? (convert ? scratch : arena).allocate(experts * bytes, 64) : MappedCopy.of(segments, arena, stacked);
                    for (int x = 0; x < experts; x++) {
                        if (nativeCopy) data.asSlice(x * bytes, bytes).copyFrom(segments.get(x));
                        if (segments.get(x).isMapped()) segments.get(x).unload();
                    }
                }
                Matrix m = new Matrix(stacked, parts[0].type(), data, rows * experts, cols);
                return convert ? CheckpointWeights.convert(m, quantize, arena, file.path()) : inPlace ? kept(m) : m;
            }
        }

        /**
         * A matrix used as stored: the file's mapping itself, or, when matrices are converted on load,
         * a copy in native memory like the converted ones (the file's pages released). Either way the
         * kernels see one kind of memory segment: with mapped and native weights mixed in one model,
         * C2 compiles the Vector API loads of the decode kernels into slow paths (see {@link MappedCopy}).
         */
        private Matrix kept(Matrix m) {
            if (quantize == null) return m;
            MemorySegment copy = arena.allocate(m.data().byteSize(), 64);
            copy.copyFrom(m.data());
            if (m.data().isMapped()) m.data().unload();
            return new Matrix(m.name(), m.type(), copy, m.rows(), m.cols());
        }

        /**
         * {@code m}'s rows in Behemoth's order: in a buffer of {@code target}, or, when it is null, a
         * mapped copy kept in the model's arena ({@link MappedCopy}).
         */
        private Matrix permuted(Matrix m, int headDim, Arena target) throws IOException {
            long rowBytes = m.rowBytes();
            List<MemorySegment> rows = new ArrayList<>(m.rows());
            for (int o = 0; o < m.rows(); o++) rows.add(m.data().asSlice(GgufArchitecture.storedRow(o, headDim) * rowBytes, rowBytes));
            MemorySegment out;
            if (target == null) {
                out = MappedCopy.of(rows, arena, m.name());
            } else {
                out = target.allocate(rowBytes * m.rows(), 64);
                for (int o = 0; o < m.rows(); o++) out.asSlice(o * rowBytes, rowBytes).copyFrom(rows.get(o));
            }
            return new Matrix(m.name(), m.type(), out, m.rows(), m.cols());
        }

        void checkAllUsed() throws IOException {
            for (GgufTensorInfo t : file.tensors())
                if (!used.contains(t.name())) throw new IOException(file.path() + ": unexpected tensor " + t.name() + " (not part of this config)");
        }
    }
}
