package ai.behemoth.cli;

import ai.behemoth.format.GgufFile;
import ai.behemoth.format.GgufTensorInfo;
import ai.behemoth.format.GgufValue;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/**
 * {@code behemoth inspect gguf FILE}: the header, every metadata key (arrays summarised as type,
 * length and first items) and a table of the tensors (name, type, shape in ggml order, bytes).
 */
@Command(name = "gguf", mixinStandardHelpOptions = true,
        description = "Print a GGUF file's metadata and tensors.")
public final class InspectGgufCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "The .gguf file.")
    Path file;

    @Option(names = "--items", defaultValue = "5", description = "Array items to show per metadata key (default: ${DEFAULT-VALUE}).")
    int items;

    @Option(names = "--no-tensors", description = "Print the metadata only.")
    boolean noTensors;

    @Override
    public Integer call() throws IOException {
        if (items < 0) throw new IllegalArgumentException("--items must not be negative, got " + items);
        PrintWriter out = spec.commandLine().getOut();
        try (GgufFile g = GgufFile.open(file)) {
            out.printf("%s: GGUF v%d, %d bytes, alignment %d, %d metadata keys, %d tensors, data at offset %d%n",
                    file, g.version(), Files.size(file), g.alignment(), g.metadata().size(), g.tensors().size(), g.dataOffset());
            out.println();
            int keyWidth = g.metadata().keySet().stream().mapToInt(String::length).max().orElse(3);
            out.printf("%-" + keyWidth + "s  %-8s  %s%n", "key", "type", "value");
            for (var e : g.metadata().entrySet()) {
                GgufValue v = e.getValue();
                out.printf("%-" + keyWidth + "s  %-8s  %s%n", e.getKey(), v.type(), v.describe(items));
            }
            if (!noTensors) {
                out.println();
                int nameWidth = g.tensors().stream().mapToInt(t -> t.name().length()).max().orElse(4);
                nameWidth = Math.max(nameWidth, 4);
                out.printf("%-" + nameWidth + "s  %-5s  %-24s  %14s%n", "name", "type", "shape (ggml order)", "bytes");
                long total = 0, values = 0;
                for (GgufTensorInfo t : g.tensors()) {
                    String shape = Arrays.stream(t.dims()).mapToObj(Long::toString).collect(Collectors.joining(" × "));
                    out.printf("%-" + nameWidth + "s  %-5s  %-24s  %14d%n", t.name(), t.type(), shape, t.byteSize());
                    total += t.byteSize();
                    values += t.elements();
                }
                out.printf("%d tensors, %d values, %d bytes (%.2f bits per value)%n", g.tensors().size(), values, total,
                        values == 0 ? 0.0 : 8.0 * total / values);
            }
        }
        out.flush();
        return 0;
    }
}
