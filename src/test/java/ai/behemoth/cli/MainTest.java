package ai.behemoth.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class MainTest {
    /** What one CLI invocation printed and returned. */
    record Run(int code, String out, String err) {
        String firstLine() {
            return err.lines().findFirst().orElse("");
        }
    }

    static Run run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter(), err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int code = cli.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void helpListsSubcommands() {
        Run r = run("--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("train", "tokenizer", "data");
    }

    @Test
    void versionPrintsProjectAndJava() {
        Run r = run("--version");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("behemoth ").contains("Java 25");
    }

    @Test
    void unknownFlagIsOneLineNamingItThenUsageAndExit2() {
        Run r = run("--no-such-flag");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().lines().findFirst().orElseThrow()).contains("--no-such-flag");
        assertThat(r.err()).contains("Usage:");
    }

    /** picocli formats descriptions with String.format: a lone '%' makes it warn on stderr and print the raw text. */
    @Test
    void everyCommandsHelpFormatsWithoutWarnings() {
        PrintStream saved = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int commands;
        try {
            System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
            commands = renderAll(Main.commandLine());
        } finally {
            System.setErr(saved);
        }
        assertThat(commands).isGreaterThan(20);
        assertThat(captured.toString(StandardCharsets.UTF_8)).isEmpty();
    }

    private static int renderAll(CommandLine cli) {
        assertThat(cli.getUsageMessage()).contains("Usage:");
        int count = 1;
        for (CommandLine sub : cli.getSubcommands().values()) count += renderAll(sub);
        return count;
    }
}
