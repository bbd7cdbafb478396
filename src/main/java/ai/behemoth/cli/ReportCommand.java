package ai.behemoth.cli;

import ai.behemoth.report.RunReport;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code behemoth report RUN_DIR}: draws a run's metrics into {@code RUN_DIR/report.html} and {@code RUN_DIR/plots/}. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Write RUN_DIR/report.html (self-contained, plots embedded) and RUN_DIR/plots/*.png from RUN_DIR/metrics.jsonl.")
public final class ReportCommand implements Callable<Integer> {
    @Parameters(paramLabel = "RUN_DIR", description = "A run folder holding metrics.jsonl.")
    Path runDir;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Path html = RunReport.write(runDir);
        spec.commandLine().getOut().println("wrote " + html + " and " + runDir.resolve(RunReport.PLOTS) + "/");
        return 0;
    }
}
