package ai.behemoth.cli;

import ai.behemoth.Version;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;

/** The {@code behemoth} command: one subcommand per job. */
@Command(name = "behemoth",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        description = "Train, audit and serve Mixture-of-Experts language models on the JVM.",
        subcommands = {
                TrainCommand.class,
                TokenizerCommand.class,
                DataCommand.class,
                GenerateCommand.class,
                ChatCommand.class,
                ServeCommand.class,
                EvalCommand.class,
                ReportCommand.class,
                InspectCommand.class,
                SweepCommand.class,
                RunsCommand.class,
                ExportCommand.class,
                QuantizeCommand.class,
                CostCommand.class,
                BenchCommand.class,
                CommandLine.HelpCommand.class,
        })
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 bad usage. */
    public static int execute(String... args) {
        return commandLine().execute(args);
    }

    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setParameterExceptionHandler(Main::badUsage);
        cli.setExecutionExceptionHandler(Main::failure);
        return cli;
    }

    /** An unknown flag or a bad value: one line naming it, then the usage, exit 2. */
    private static int badUsage(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("behemoth: " + e.getMessage());
        cmd.usage(err);
        return CommandLine.ExitCode.USAGE;
    }

    /** Any failure while running: one line, no stack trace unless BEHEMOTH_DEBUG is set. */
    private static int failure(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        PrintWriter err = cmd.getErr();
        if (System.getenv("BEHEMOTH_DEBUG") != null) e.printStackTrace(err);
        err.println("behemoth: error: " + Errors.describe(e));
        return CommandLine.ExitCode.SOFTWARE;
    }

    static final class VersionProvider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[]{"behemoth " + Version.get(),
                    "Java " + Runtime.version() + " (" + System.getProperty("java.vendor") + ")"};
        }
    }
}
