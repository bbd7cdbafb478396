package ai.behemoth.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code behemoth bench ...}: measurements of this machine and of Behemoth on it. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Measure speed: the machine's peak, matrix kernels, quantised rows, tokenizers, training, generation.",
        subcommands = {BenchPeakCommand.class, BenchGemmCommand.class, BenchQuantCommand.class, BenchTokenizerCommand.class,
                BenchTrainCommand.class, BenchGenerateCommand.class, BenchServeCommand.class})
public final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
