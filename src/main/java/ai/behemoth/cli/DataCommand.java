package ai.behemoth.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code behemoth data ...}: turning raw text into clean training token shards. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Prepare training data: clean, deduplicate, filter, split and tokenize text into shards.",
        subcommands = {DataPrepareCommand.class})
public final class DataCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
