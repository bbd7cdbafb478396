package ai.behemoth.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code behemoth inspect ...}: look inside model files. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = "Look inside model files.",
        subcommands = {InspectGgufCommand.class, InspectExpertsCommand.class})
public final class InspectCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
