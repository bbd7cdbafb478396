package ai.behemoth.cli;

import ai.behemoth.sweep.RunRegistry;
import ai.behemoth.sweep.SweepSpec;
import ai.behemoth.train.Checkpoint;
import ai.behemoth.train.Metrics;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code behemoth sweep SPEC.json}: trains each variant of a {@link SweepSpec} in
 * {@code ROOT/<sweep>/<variant>/} and records it in {@code ROOT/index.jsonl}. A finished variant
 * (its {@code final/} checkpoint is there) is skipped; an interrupted one (a step checkpoint, no
 * {@code final/}) is resumed from its latest checkpoint; one interrupted before its first checkpoint
 * starts again.
 */
@Command(name = "sweep", mixinStandardHelpOptions = true,
        description = {"Train every variant of a sweep spec, each in ROOT/<sweep>/<variant>/, recorded in ROOT/index.jsonl.",
                "Spec: {\"name\": \"lr\", \"base\": {train flags}, \"grid\": {\"lr\": [0.001, 0.003]}} or \"variants\": [{\"id\": \"a\", ...}, ...];"
                        + " flags as in behemoth train, without the dashes. Re-running skips finished variants and resumes interrupted ones."})
public final class SweepCommand implements Callable<Integer> {
    @Parameters(paramLabel = "SPEC.json", description = "The sweep spec.")
    Path specFile;

    @Option(names = "--root", paramLabel = "DIR", description = "Runs root holding the sweep folder and index.jsonl (default: runs).")
    Path root = Path.of("runs");

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        SweepSpec sweep = SweepSpec.read(specFile);
        PrintWriter err = spec.commandLine().getErr();
        CommandLine.Model.CommandSpec train = new CommandLine(new TrainCommand()).getCommandSpec();
        for (SweepSpec.Variant v : sweep.variants())
            for (String flag : v.flags().keySet())
                if (train.findOption("--" + flag) == null)
                    throw new IllegalArgumentException(specFile + ": '" + flag + "' is not a flag of behemoth train");
        int failed = 0;
        for (SweepSpec.Variant v : sweep.variants()) {
            Path dir = root.resolve(sweep.name()).resolve(v.id());
            String id = sweep.name() + "/" + v.id();
            if (Files.isRegularFile(dir.resolve("final").resolve(Checkpoint.TRAINER))) {
                err.printf("behemoth: sweep %s: finished, skipped%n", id);
                RunRegistry.put(root, RunRegistry.measure(root, dir, id, v.diff(), RunRegistry.FINISHED, null));
                continue;
            }
            List<String> args = new ArrayList<>(List.of("train"));
            boolean resume = !Checkpoint.checkpointsOf(dir.resolve("checkpoints")).isEmpty();
            if (resume) {
                args.addAll(List.of("--resume", dir.toString()));
                err.printf("behemoth: sweep %s: resuming from %s%n", id, Checkpoint.resolve(dir));
            } else {
                // Interrupted before its first checkpoint: nothing to resume, start again.
                Files.deleteIfExists(dir.resolve(Metrics.FILE));
                Files.deleteIfExists(dir.resolve("checkpoints"));
                args.addAll(List.of("--out", dir.toString()));
                err.printf("behemoth: sweep %s: training%n", id);
            }
            for (Map.Entry<String, String> f : v.flags().entrySet()) args.addAll(List.of("--" + f.getKey(), f.getValue()));
            RunRegistry.put(root, RunRegistry.measure(root, dir, id, v.diff(), RunRegistry.RUNNING, null));

            StringWriter captured = new StringWriter();
            CommandLine cli = Main.commandLine();
            cli.setOut(spec.commandLine().getOut());
            cli.setErr(new PrintWriter(new Tee(err, captured), true));
            int code = cli.execute(args.toArray(String[]::new));
            boolean done = code == 0 && Files.isRegularFile(dir.resolve("final").resolve(Checkpoint.TRAINER));
            if (!done) failed++;
            RunRegistry.put(root, RunRegistry.measure(root, dir, id, v.diff(), done ? RunRegistry.FINISHED : RunRegistry.FAILED,
                    done ? null : lastError(captured.toString(), code)));
        }
        err.printf("behemoth: sweep %s: %d variants, %d failed; registry %s (behemoth runs --root %s)%n",
                sweep.name(), sweep.variants().size(), failed, root.resolve(RunRegistry.FILE), root);
        return failed == 0 ? 0 : 1;
    }

    private static String lastError(String output, int code) {
        String found = "train exited with code " + code;
        for (String line : output.split("\\R")) if (line.startsWith("behemoth: error: ")) found = line.substring("behemoth: error: ".length());
        return found;
    }

    /** Writes to two writers: the user's terminal and a capture of the error line. */
    private static final class Tee extends Writer {
        private final Writer a, b;

        Tee(Writer a, Writer b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(char[] buf, int off, int len) throws IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }

        @Override
        public void flush() throws IOException {
            a.flush();
            b.flush();
        }

        @Override
        public void close() throws IOException {
            flush();
        }
    }
}
