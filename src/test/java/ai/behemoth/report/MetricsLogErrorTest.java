package ai.behemoth.report;

import ai.behemoth.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetricsLogErrorTest {
    @TempDir
    Path dir;

    private static final String GOOD = "{\"step\":1,\"train_loss\":5.0}";

    private Path metrics(String... lines) throws IOException {
        return Files.write(dir.resolve("metrics.jsonl"), List.of(lines));
    }

    private void rejects(String expected, String... lines) throws IOException {
        Path file = metrics(lines);
        assertThatThrownBy(() -> MetricsLog.read(file)).isInstanceOf(IOException.class)
                .hasMessageStartingWith(file.toString()).hasMessageContaining(expected);
    }

    @Test
    void eachProblemNamesTheFileAndLine() throws IOException {
        rejects("line 2: not valid JSON", GOOD, "{\"step\":2,", GOOD);
        rejects("line 3: expected a JSON object", GOOD, "", "[1,2]");
        rejects("line 1: missing field step", "{\"train_loss\":5.0}");
        rejects("line 2: field step must be a non-negative integer", GOOD, "{\"step\":-4}");
        rejects("line 2: field step must be a non-negative integer", GOOD, "{\"step\":2.5}");
        rejects("line 1: field train_loss must be a number", "{\"step\":1,\"train_loss\":\"low\"}");
        rejects("line 1: field experts must be a list", "{\"step\":1,\"experts\":3}");
        rejects("line 1: experts entry for layer 0: field load", "{\"step\":1,\"experts\":[{\"layer\":0}]}");
        rejects("line 1: experts entry for layer 1: load[1] is not a number",
                "{\"step\":1,\"experts\":[{\"layer\":1,\"load\":[0.5,\"x\"]}]}");
        rejects("line 2: missing field to_step", GOOD, "{\"step\":5,\"event\":\"rollback\"}");
        rejects("line 2: rollback to_step 9 is after its step 5", GOOD, "{\"step\":5,\"event\":\"rollback\",\"to_step\":9}");
        rejects("line 2: missing field step", GOOD, "{\"event\":\"skip\"}");
        rejects("line 2: field event must be a non-empty string", GOOD, "{\"step\":1,\"event\":7}");
    }

    @Test
    void emptyOrEventsOnlyIsRefused() throws IOException {
        rejects("no step records", new String[0]);
        rejects("no step records", "", "  ");
        rejects("no step records", "{\"event\":\"config\",\"lr\":0.1}");
    }

    @Test
    void missingFileIsNamed() {
        assertThatThrownBy(() -> MetricsLog.read(dir.resolve("metrics.jsonl")))
                .isInstanceOf(NoSuchFileException.class).hasMessageContaining("metrics.jsonl");
    }

    @Test
    void cliPrintsOneLineAndExits1WithoutWritingAReport() throws IOException {
        metrics(GOOD, "not json");
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("report", dir.toString());
        assertThat(code).isEqualTo(1);
        assertThat(err.toString().lines().toList()).hasSize(1).first().asString()
                .startsWith("behemoth: error: ").contains(dir.resolve("metrics.jsonl") + " line 2");
        assertThat(dir.resolve("report.html")).doesNotExist();

        code = Main.commandLine().execute("report", dir.resolve("nowhere").toString());
        assertThat(code).isEqualTo(1);
    }
}
