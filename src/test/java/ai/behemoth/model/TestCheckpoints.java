package ai.behemoth.model;

import ai.behemoth.format.Safetensors;
import ai.behemoth.tokenizer.ByteTokenizer;
import ai.behemoth.train.Balance;
import ai.behemoth.train.ParameterLayout;
import ai.behemoth.train.Transformer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** Small randomly initialised checkpoints of each preset family, written the way training writes them. */
public final class TestCheckpoints {
    private TestCheckpoints() {}

    /** A preset shrunk to test size (dim 64, byte vocabulary, context 48), keeping its family's options. */
    public static ModelConfig small(String preset) {
        ModelConfig.Builder b = Presets.get(preset, 256).toBuilder();
        b.dim = 64;
        b.headDim = 16;
        b.context = 48;
        b.ffnHidden = 96;
        if (b.experts > 0) b.expertHidden = 64;
        if (b.sharedExpertHidden > 0) b.sharedExpertHidden = 64;
        return b.build();
    }

    /** Initialises a training model with {@code seed} and writes it as a checkpoint folder {@code dir}. */
    public static Transformer write(Path dir, ModelConfig config, long seed) throws IOException {
        Transformer model = new Transformer(config, Balance.NONE, 1, config.context());
        model.initialize(seed);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), config.toJson());
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        for (ParameterLayout.Entry e : model.layout().entries())
            tensors.put(e.name(), new Safetensors.Tensor(e.shape(),
                    Arrays.copyOfRange(model.params(), e.offset(), e.offset() + e.size())));
        Safetensors.write(dir.resolve("model.safetensors"), tensors, Map.of());
        new ByteTokenizer().save(dir.resolve("tokenizer.json"));
        return model;
    }
}
