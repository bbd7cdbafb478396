package ai.behemoth.cli;

import ai.behemoth.model.GgufExport;
import ai.behemoth.tensor.quant.GgmlType;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code behemoth export --format gguf --type f32|f16|q8_0|q4_0 CHECKPOINT OUT.gguf}. */
@Command(name = "export", mixinStandardHelpOptions = true,
        description = "Export a checkpoint as a GGUF file that llama.cpp runs (architecture llama, qwen3, qwen3moe or llama4, picked from the config).")
public final class ExportCommand implements Callable<Integer> {
    enum Format { gguf }

    enum Type {
        f32(GgmlType.F32), f16(GgmlType.F16), q8_0(GgmlType.Q8_0), q4_0(GgmlType.Q4_0);

        final GgmlType type;

        Type(GgmlType type) {
            this.type = type;
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--format", required = true, paramLabel = "FORMAT", description = "Output format: ${COMPLETION-CANDIDATES}.")
    Format format;

    @Option(names = "--type", defaultValue = "f32", paramLabel = "TYPE",
            description = "Type of the weight matrices: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}); norms and routers stay f32.")
    Type type;

    @Parameters(index = "0", paramLabel = "CHECKPOINT", description = "Checkpoint folder.")
    Path checkpoint;

    @Parameters(index = "1", paramLabel = "OUT", description = "The GGUF file to write.")
    Path out;

    @Override
    public Integer call() throws Exception {
        GgufExport.export(checkpoint, type.type, out);
        spec.commandLine().getOut().println("wrote " + out + " (" + type + ")");
        return 0;
    }
}
