package ai.behemoth.model;

import ai.behemoth.format.SafetensorsFile;
import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Quant;
import ai.behemoth.tokenizer.Tokenizer;
import ai.behemoth.tokenizer.Tokenizers;
import ai.behemoth.train.ParameterLayout;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Loads a Behemoth checkpoint folder ({@code config.json}, {@code model.safetensors},
 * {@code tokenizer.json}; optionally {@code trainer.json} for the routers' selection biases and
 * {@code tokenizer_config.json} for a chat template) as {@link ModelWeights}. The safetensors file
 * is memory-mapped: matrices stay in the mapping unless {@code --quantize} converts them, into
 * off-heap buffers. Every tensor the config needs must be present with its exact shape, and no
 * other tensor may be there; anything else is an IOException naming the file and the tensor.
 */
public final class CheckpointWeights {
    private CheckpointWeights() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** @param quantize the type to convert matrices to on load, or null to use them as stored */
    public static ModelWeights load(Path dir, GgmlType quantize) throws IOException {
        if (!Files.isDirectory(dir)) throw new IOException(dir + ": no such checkpoint folder");
        ModelConfig config = readConfig(dir.resolve("config.json"));
        Path tokenizerFile = dir.resolve("tokenizer.json");
        if (!Files.isRegularFile(tokenizerFile)) throw new IOException(tokenizerFile + ": missing (a checkpoint needs its tokenizer)");
        Tokenizer tokenizer = Tokenizers.load(tokenizerFile.toString());
        if (tokenizer.vocabSize() > config.vocabSize())
            throw new IOException(tokenizerFile + ": " + tokenizer.vocabSize() + " tokens, but config.json vocab_size is " + config.vocabSize());
        float[][] routerBias = routerBias(dir.resolve("trainer.json"), config);
        String template = chatTemplate(dir.resolve("tokenizer_config.json"));

        Path modelFile = dir.resolve("model.safetensors");
        if (!Files.isRegularFile(modelFile)) throw new IOException(modelFile + ": missing");
        SafetensorsFile file = SafetensorsFile.open(modelFile);
        Arena quantArena = Arena.ofShared();
        try {
            Reader r = new Reader(file, new ParameterLayout(config), quantize, quantArena);
            Matrix embedding = r.matrix("tok_embeddings.weight");
            List<LayerWeights> layers = new ArrayList<>();
            int moeIndex = 0;
            for (int l = 0; l < config.layers(); l++) {
                String p = "layers." + l + ".";
                boolean qkWeights = config.qkNorm() == ModelConfig.QkNorm.RMS_WEIGHT, moe = config.isMoeLayer(l);
                boolean shared = moe && config.sharedExpertHidden() > 0;
                String f = p + "feed_forward.";
                layers.add(new LayerWeights(
                        r.vector(p + "attention_norm.weight"),
                        r.matrix(p + "attention.wq.weight"), r.matrix(p + "attention.wk.weight"),
                        r.matrix(p + "attention.wv.weight"), r.matrix(p + "attention.wo.weight"),
                        qkWeights ? r.vector(p + "attention.q_norm.weight") : null,
                        qkWeights ? r.vector(p + "attention.k_norm.weight") : null,
                        r.vector(p + "ffn_norm.weight"),
                        moe ? null : r.matrix(f + "w1.weight"), moe ? null : r.matrix(f + "w3.weight"),
                        moe ? null : r.matrix(f + "w2.weight"),
                        moe ? r.matrix(f + "router.weight") : null,
                        moe ? r.matrix(f + "experts.w1") : null, moe ? r.matrix(f + "experts.w3") : null,
                        moe ? r.matrix(f + "experts.w2") : null,
                        moe && routerBias != null ? routerBias[moeIndex++] : null,
                        shared ? r.matrix(f + "shared_expert.w1.weight") : null,
                        shared ? r.matrix(f + "shared_expert.w3.weight") : null,
                        shared ? r.matrix(f + "shared_expert.w2.weight") : null));
            }
            float[] norm = r.vector("norm.weight");
            Matrix output = config.tiedEmbeddings() ? embedding : r.matrix("output.weight");
            r.checkAllUsed();
            AutoCloseable resources = () -> {
                quantArena.close();
                file.close();
            };
            return new ModelWeights(config, tokenizer, embedding, List.copyOf(layers), norm, output, template, resources);
        } catch (IOException | RuntimeException e) {
            quantArena.close();
            file.close();
            if (e instanceof IllegalArgumentException || e instanceof UnsupportedOperationException)
                throw new IOException(modelFile + ": " + e.getMessage(), e);
            throw e;
        }
    }

    /** Reads tensors by name, checking each against the layout and remembering which were used. */
    private static final class Reader {
        private final SafetensorsFile file;
        private final ParameterLayout layout;
        private final GgmlType quantize;
        private final Arena arena;
        private final Set<String> used = new HashSet<>();

        Reader(SafetensorsFile file, ParameterLayout layout, GgmlType quantize, Arena arena) {
            this.file = file;
            this.layout = layout;
            this.quantize = quantize;
            this.arena = arena;
        }

        SafetensorsFile.Entry entry(String name) throws IOException {
            SafetensorsFile.Entry e = file.get(name);
            if (e == null) throw new IOException(file.file() + ": missing tensor " + name);
            long[] expected = Arrays.stream(layout.get(name).shape()).asLongStream().toArray();
            if (!Arrays.equals(e.shape(), expected))
                throw new IOException(file.file() + ": tensor " + name + " has shape " + Arrays.toString(e.shape())
                        + ", the config needs " + Arrays.toString(expected));
            used.add(name);
            return e;
        }

        float[] vector(String name) throws IOException {
            SafetensorsFile.Entry e = entry(name);
            float[] v = new float[(int) e.elements()];
            Quant.dequantize(e.type(), e.data(), 0, v, 0, v.length);
            return v;
        }

        /** A 2-D tensor as is, or a 3-D stack {@code [E, R, C]} as {@code [E·R, C]}; converted when asked. */
        Matrix matrix(String name) throws IOException {
            SafetensorsFile.Entry e = entry(name);
            long[] s = e.shape();
            int cols = (int) s[s.length - 1], rows = (int) (e.elements() / cols);
            Matrix stored = new Matrix(name, e.type(), e.data(), rows, cols);
            if (quantize == null || quantize == e.type()) return stored;
            return convert(stored, quantize, arena, file.file());
        }

        void checkAllUsed() throws IOException {
            for (String name : file.tensors().keySet())
                if (!used.contains(name)) throw new IOException(file.file() + ": unexpected tensor " + name + " (not part of this config)");
        }
    }

    /**
     * {@code m} converted to {@code type} in a buffer of {@code arena}; IOException naming {@code file}
     * when its rows do not fit the type's blocks. The pages of a mapped source are released after,
     * so the file's copy does not stay resident beside the converted one.
     */
    static Matrix convert(Matrix m, GgmlType type, Arena arena, Path file) throws IOException {
        if (m.cols() % type.blockSize != 0)
            throw new IOException(file + ": tensor " + m.name() + " rows hold " + m.cols() + " values, which " + type
                    + " cannot store (it needs a multiple of " + type.blockSize + ")");
        long rowBytes = type.rowBytes(m.cols());
        MemorySegment out = arena.allocate(rowBytes * m.rows(), 64);
        ThreadLocal<float[]> scratch = ThreadLocal.withInitial(() -> new float[m.cols()]);
        Parallel.forRange(m.rows(), r -> {
            float[] row = scratch.get();
            m.row(r, row, 0);
            Quant.quantize(type, row, 0, m.cols(), out, r * rowBytes);
        });
        if (m.data().isMapped()) m.data().unload();
        return new Matrix(m.name(), type, out, m.rows(), m.cols());
    }

    /** The config, with a one-line message naming the file when it is missing, not JSON, or does not validate. */
    private static ModelConfig readConfig(Path file) throws IOException {
        if (!Files.isRegularFile(file)) throw new IOException(file + ": missing");
        try {
            return ModelConfig.fromJson(Files.readString(file));
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": " + e.getOriginalMessage(), e);
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException(file + ": " + e.getMessage(), e);
        }
    }

    /** The selection biases saved by an aux-loss-free training run, or null when there are none. */
    private static float[][] routerBias(Path trainerJson, ModelConfig config) throws IOException {
        if (!Files.isRegularFile(trainerJson)) return null;
        JsonNode bias;
        try {
            bias = JSON.readTree(trainerJson.toFile()).get("router_bias");
        } catch (IOException e) {
            throw new IOException(trainerJson + ": not valid JSON: " + e.getMessage(), e);
        }
        if (bias == null || bias.isNull()) return null;
        int moeLayers = 0;
        for (int l = 0; l < config.layers(); l++) if (config.isMoeLayer(l)) moeLayers++;
        if (!bias.isArray() || bias.size() != moeLayers)
            throw new IOException(trainerJson + ": router_bias must hold one array per MoE layer (" + moeLayers + ")");
        float[][] out = new float[moeLayers][config.experts()];
        for (int i = 0; i < moeLayers; i++) {
            JsonNode layer = bias.get(i);
            if (!layer.isArray() || layer.size() != config.experts())
                throw new IOException(trainerJson + ": router_bias[" + i + "] must hold " + config.experts() + " numbers");
            for (int e = 0; e < out[i].length; e++) out[i][e] = (float) layer.get(e).asDouble();
        }
        return out;
    }

    /** The {@code chat_template} string of a Hugging Face {@code tokenizer_config.json}, or null. */
    private static String chatTemplate(Path tokenizerConfig) throws IOException {
        if (!Files.isRegularFile(tokenizerConfig)) return null;
        try {
            JsonNode t = JSON.readTree(tokenizerConfig.toFile()).get("chat_template");
            return t != null && t.isTextual() ? t.asText() : null;
        } catch (IOException e) {
            throw new IOException(tokenizerConfig + ": not valid JSON: " + e.getMessage(), e);
        }
    }
}
