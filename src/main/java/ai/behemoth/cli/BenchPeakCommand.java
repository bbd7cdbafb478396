package ai.behemoth.cli;

import ai.behemoth.tensor.Peak;
import jdk.incubator.vector.FloatVector;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;

/** {@code behemoth bench peak}: the FMA throughput and memory bandwidth that MFU figures divide by. */
@Command(name = "peak", mixinStandardHelpOptions = true,
        description = "Measure this machine's float32 FMA throughput (1 thread and all threads) and memory read bandwidth.")
public final class BenchPeakCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--threads", paramLabel = "N", description = "Threads for the all-threads figures (default: all processors).")
    Integer threads;

    @Override
    public void run() {
        int n = threads != null ? threads : Runtime.getRuntime().availableProcessors();
        if (n < 1) throw new CommandLine.ParameterException(spec.commandLine(), "--threads must be at least 1, got " + n);
        PrintWriter out = spec.commandLine().getOut();
        out.printf("machine: %d processors, %d-bit vectors, Java %s%n", Runtime.getRuntime().availableProcessors(),
                FloatVector.SPECIES_PREFERRED.vectorBitSize(), Runtime.version());
        out.printf("%-20s %8.1f GFLOP/s%n", "fma, 1 thread", Peak.fmaGflops(1));
        if (n > 1) out.printf("%-20s %8.1f GFLOP/s%n", "fma, " + n + " threads", Peak.fmaGflops(n));
        out.printf("%-20s %8.1f GB/s (streaming read)%n", "memory, " + n + (n == 1 ? " thread" : " threads"), Peak.memoryGBs(n));
        out.flush();
    }
}
