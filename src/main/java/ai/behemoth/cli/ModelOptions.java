package ai.behemoth.cli;

import ai.behemoth.generate.LanguageModel;
import ai.behemoth.tensor.Parallel;
import ai.behemoth.tensor.quant.GgmlType;
import picocli.CommandLine;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/** {@code --model}, {@code --quantize}, {@code --q8-activations}, {@code --threads}: shared by the commands that run a model. */
final class ModelOptions {
    @Option(names = "--model", required = true, paramLabel = "PATH", description = "Checkpoint folder (config.json, model.safetensors, tokenizer.json) or a GGUF file.")
    Path model;

    @Option(names = "--quantize", paramLabel = "TYPE", converter = QuantizeType.class,
            description = "Convert the weights on load: q8_0, q4_0, f16 or bf16 (default: as stored).")
    GgmlType quantize;

    @Option(names = "--q8-activations",
            description = "Multiply Q4_0, Q8_0 and K-quant (Q4_K, Q5_K, Q6_K) matrices as llama.cpp does: the input rounded to 8 bits per block"
                    + " of 32, the sums taken in integers (Q4_0, Q8_0: every product; the K types: those over fewer than 4"
                    + " tokens, as in generation)."
                    + " Faster; results rounded as llama.cpp rounds them, not exact in float32. Keeps an interleaved copy of"
                    + " those weights (for Q4_0 and Q8_0 in place of the file's pages; the K types' pages stay for prompts).")
    boolean q8Activations;

    @Option(names = "--threads", paramLabel = "N", description = "Threads for the matrix products (default: all cores).")
    Integer threads;

    LanguageModel load(CommandLine cli) throws IOException {
        if (threads != null) {
            if (threads < 1) throw new CommandLine.ParameterException(cli, "--threads must be at least 1, not " + threads);
            Parallel.setThreads(threads);
        }
        return LanguageModel.load(model, quantize, q8Activations);
    }

    static final class QuantizeType implements CommandLine.ITypeConverter<GgmlType> {
        @Override
        public GgmlType convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "q8_0" -> GgmlType.Q8_0;
                case "q4_0" -> GgmlType.Q4_0;
                case "f16" -> GgmlType.F16;
                case "bf16" -> GgmlType.BF16;
                case "f32" -> GgmlType.F32;
                default -> throw new CommandLine.TypeConversionException("'" + value + "' is not one of q8_0, q4_0, f16, bf16, f32");
            };
        }
    }
}
