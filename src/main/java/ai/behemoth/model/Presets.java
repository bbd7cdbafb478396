package ai.behemoth.model;

import ai.behemoth.model.ModelConfig.QkNorm;
import ai.behemoth.model.ModelConfig.Router;
import ai.behemoth.model.ModelConfig.RouterWeight;

import java.util.List;

/** Small shapes of each model family; {@code tiny} is the default for {@code behemoth train}. */
public final class Presets {
    private Presets() {}

    public static final List<String> NAMES = List.of("tiny", "mixtral", "qwen3moe", "llama4", "dense", "qwen3");

    /** The preset with the given vocabulary size; throws naming the preset when it is unknown. */
    public static ModelConfig get(String name, int vocabSize) {
        return switch (name) {
            // 4 MoE layers of 8 experts (top-2), softmax router on the expert output: trains on 2 cores in minutes.
            case "tiny" -> new ModelConfig(vocabSize, 128, 4, 4, 4, 32, 128, 10000, 1e-5,
                    512, 8, 2, 256, 0, 1, Router.SOFTMAX, RouterWeight.OUTPUT, true, 0, QkNorm.NONE, false, 0.02);
            case "mixtral" -> new ModelConfig(vocabSize, 128, 4, 8, 2, 16, 256, 1e6, 1e-5,
                    512, 8, 2, 256, 0, 1, Router.SOFTMAX, RouterWeight.OUTPUT, true, 0, QkNorm.NONE, false, 0.02);
            case "qwen3moe" -> new ModelConfig(vocabSize, 128, 4, 8, 2, 32, 256, 1e6, 1e-6,
                    512, 16, 4, 128, 0, 1, Router.SOFTMAX, RouterWeight.OUTPUT, true, 0, QkNorm.RMS_WEIGHT, false, 0.02);
            // Llama 4: MoE every 2nd layer, sigmoid top-1 router on the expert input, a shared expert,
            // NoPE every 4th layer and weightless QK norm on the RoPE layers; Scout's chunks of 8192 on the RoPE
            // layers and attention temperature (floor 8192, scale 0.1) on the NoPE layers, which act beyond position 8190.
            case "llama4" -> new ModelConfig(vocabSize, 128, 4, 8, 2, 16, 256, 500000, 1e-5,
                    512, 8, 1, 256, 256, 2, Router.SIGMOID, RouterWeight.INPUT, false, 4, QkNorm.RMS, false, 0.02,
                    8192, 8192, 0.1);
            case "dense" -> new ModelConfig(vocabSize, 128, 4, 4, 4, 32, 128, 10000, 1e-5,
                    512, 0, 0, 0, 0, 1, Router.SOFTMAX, RouterWeight.OUTPUT, true, 0, QkNorm.NONE, false, 0.02);
            // Qwen3 (dense): SwiGLU on every layer, GQA, weighted QK norm before RoPE.
            case "qwen3" -> new ModelConfig(vocabSize, 128, 4, 8, 2, 32, 256, 1e6, 1e-6,
                    512, 0, 0, 0, 0, 1, Router.SOFTMAX, RouterWeight.OUTPUT, true, 0, QkNorm.RMS_WEIGHT, false, 0.02);
            default -> throw new IllegalArgumentException("unknown preset '" + name + "' (known: " + String.join(", ", NAMES) + ")");
        };
    }
}
