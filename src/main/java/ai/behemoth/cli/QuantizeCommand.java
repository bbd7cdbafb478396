package ai.behemoth.cli;

import ai.behemoth.format.GgufFile;
import ai.behemoth.format.GgufTensorInfo;
import ai.behemoth.format.GgufValue;
import ai.behemoth.format.GgufWriter;
import ai.behemoth.tensor.quant.GgmlType;
import ai.behemoth.tensor.quant.Quant;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * {@code behemoth quantize IN.gguf OUT.gguf --type q8_0|q4_0}: re-encodes the weight matrices of a
 * GGUF file, copying everything else.
 *
 * <p>Which tensors, following llama.cpp's {@code llama-quantize} (src/llama-quant.cpp):
 * <ul>
 * <li>quantised: tensors whose name ends in {@code weight} with 2 or more dimensions (3-D expert
 *     stacks included), including {@code token_embd.weight};</li>
 * <li>kept as they are: 1-D tensors (norms, biases), {@code *_norm.weight}, the MoE routers
 *     {@code ffn_gate_inp.weight}, position and token-type embeddings, and matrices whose row
 *     length is not a multiple of 32 (llama.cpp would pick a fallback type for those);</li>
 * <li>{@code output.weight} (or {@code token_embd.weight} when the model has no separate output,
 *     i.e. the embeddings are tied): llama.cpp gives it Q6_K under Q4_0; Behemoth does not quantise
 *     to K-quants, so it gets Q8_0, the nearest type at least as precise.</li>
 * </ul>
 * The metadata is copied, with {@code general.file_type} set (7 = MOSTLY_Q8_0, 2 = MOSTLY_Q4_0) and
 * {@code general.quantization_version} = 2, as llama-quantize does. Source tensors must be F32, F16
 * or BF16 unless {@code --allow-requantize}. Rows are quantised one at a time from the mapped input
 * straight into the mapped output; nothing is held whole on the heap.
 */
@Command(name = "quantize", mixinStandardHelpOptions = true,
        description = "Quantise the weight matrices of a GGUF file to Q8_0 or Q4_0 (as llama-quantize does).")
public final class QuantizeCommand implements Callable<Integer> {
    /** The target types and their llama_ftype numbers ({@code general.file_type}). */
    enum Target {
        q8_0(GgmlType.Q8_0, 7), q4_0(GgmlType.Q4_0, 2);

        final GgmlType type;
        final int fileType;

        Target(GgmlType type, int fileType) {
            this.type = type;
            this.fileType = fileType;
        }
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "IN", description = "The GGUF file to read.")
    Path in;

    @Parameters(index = "1", paramLabel = "OUT", description = "The GGUF file to write (replaced atomically).")
    Path out;

    @Option(names = "--type", required = true, description = "Target type: ${COMPLETION-CANDIDATES}.")
    Target target;

    @Option(names = "--allow-requantize", description = "Also re-encode tensors that are already quantised (loses precision twice).")
    boolean allowRequantize;

    @Override
    public Integer call() throws IOException {
        if (Files.exists(out) && Files.isSameFile(in, out))
            throw new IllegalArgumentException("OUT must differ from IN (" + in + "): the input is read while the output is written");
        PrintWriter log = spec.commandLine().getOut();
        long before = 0, after = 0;
        try (GgufFile g = GgufFile.open(in); ProgressBar bar = progressBar(g)) {
            GgufWriter w = new GgufWriter();
            g.metadata().forEach(w::put);
            w.put("general.quantization_version", GgufValue.uint32(2));
            w.put("general.file_type", GgufValue.uint32(target.fileType));
            boolean tied = g.tensor("output.weight") == null;
            for (GgufTensorInfo t : g.tensors()) {
                GgmlType to = targetFor(t, tied);
                MemorySegment src = g.tensorData(t);
                before += t.byteSize();
                GgufWriter.TensorData data;
                if (to == null || to == t.type()) {
                    to = t.type();
                    data = dst -> dst.copyFrom(src);
                } else {
                    if (t.type() != GgmlType.F32 && t.type() != GgmlType.F16 && t.type() != GgmlType.BF16 && !allowRequantize)
                        throw new IllegalArgumentException(in + ": tensor " + t.name() + " is already " + t.type()
                                + "; pass --allow-requantize to re-encode it as " + to);
                    GgmlType type = to;
                    data = dst -> requantize(t, src, type, dst);
                }
                after += t.rows() * to.rowBytes(t.rowLength());
                w.addTensor(t.name(), to, t.dims(), dst -> {
                    data.writeTo(dst);
                    if (bar != null) bar.stepBy(t.byteSize());
                });
                log.printf("%-40s %-5s -> %-5s %s%n", t.name(), t.type(), to, Arrays.toString(t.dims()));
            }
            log.flush();
            w.write(out);
        }
        log.printf("%s: %.1f MiB -> %.1f MiB%n", out, before / 1048576.0, after / 1048576.0);
        log.flush();
        return 0;
    }

    /** A bar over the input bytes on an interactive terminal; none in pipes and logs. */
    private static ProgressBar progressBar(GgufFile g) {
        if (System.console() == null) return null;
        long total = g.tensors().stream().mapToLong(GgufTensorInfo::byteSize).sum();
        return new ProgressBarBuilder().setTaskName("quantize").setInitialMax(total).setUnit(" MiB", 1 << 20).showSpeed()
                .setConsumer(new ConsoleProgressBarConsumer(System.err)).build();
    }

    /** The type {@code t} should become, or null to copy it unchanged (see the class comment). */
    GgmlType targetFor(GgufTensorInfo t, boolean tied) {
        String name = t.name();
        boolean quantize = name.endsWith("weight") && t.dims().length >= 2
                && !name.contains("_norm.weight") && !name.contains("ffn_gate_inp.weight")
                && !name.equals("position_embd.weight") && !name.equals("token_types.weight")
                && t.rowLength() % target.type.blockSize == 0;
        if (!quantize) return null;
        boolean output = name.equals("output.weight") || (tied && name.equals("token_embd.weight"));
        return output ? GgmlType.Q8_0 : target.type;
    }

    private static void requantize(GgufTensorInfo t, MemorySegment src, GgmlType to, MemorySegment dst) {
        if (t.rowLength() > Integer.MAX_VALUE - 16)
            throw new IllegalArgumentException("tensor " + t.name() + " has rows of " + t.rowLength() + " values, too long to quantise");
        int n = (int) t.rowLength();
        float[] row = new float[n];
        long srcRow = t.type().rowBytes(n), dstRow = to.rowBytes(n);
        for (long r = 0; r < t.rows(); r++) {
            Quant.dequantize(t.type(), src, r * srcRow, row, 0, n);
            Quant.quantize(to, row, 0, n, dst, r * dstRow);
        }
    }
}
