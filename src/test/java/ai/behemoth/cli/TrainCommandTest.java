package ai.behemoth.cli;

import ai.behemoth.cli.MainTest.Run;

import ai.behemoth.train.Checkpoint;
import ai.behemoth.train.CheckpointTestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static ai.behemoth.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;

/** Bad flags and bad checkpoints are refused with one line before any work, and leave existing runs as they were. */
class TrainCommandTest {
    @TempDir
    Path tmp;



    /** Every file under {@code dir} with its bytes, to show that a refused command changed nothing. */
    static Map<String, String> snapshot(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.filter(Files::isRegularFile).toList())
                files.put(dir.relativize(p).toString(), java.util.HexFormat.of().formatHex(
                        java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        return files;
    }

    @Test
    void shapesThatDoNotFitAreOneLineErrorsNamingTheFlags() {
        String out = tmp.resolve("run").toString();
        Run r = run("train", "--out", out, "--dim", "100", "--heads", "3");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).isEqualTo("behemoth: error: --dim 100 is not divisible by --heads 3");
        r = run("train", "--out", out, "--experts", "2", "--top-k", "3");
        assertThat(r.firstLine()).isEqualTo("behemoth: error: --top-k 3 is above --experts 2");
        r = run("train", "--out", out, "--heads", "4", "--kv-heads", "3");
        assertThat(r.firstLine()).contains("--kv-heads 3");
        r = run("train", "--out", out, "--warmup", "5000", "--steps", "100");
        assertThat(r.firstLine()).contains("--warmup");
        r = run("train", "--out", out, "--preset", "huge");
        assertThat(r.firstLine()).contains("unknown preset 'huge'");
        r = run("train", "--out", out, "--tokenizer", "bpe:lots");
        assertThat(r.firstLine()).contains("bpe:lots");
        assertThat(Files.exists(tmp.resolve("run"))).isFalse();
    }

    @Test
    void theHelpStatesTheDefaultsTheCodeUses() {
        CommandLine cli = Main.commandLine();
        String help = cli.getSubcommands().get("train").getUsageMessage(CommandLine.Help.Ansi.OFF).replaceAll("\\s+", " ");
        ai.behemoth.train.TrainOptions d = ai.behemoth.train.TrainOptions.DEFAULTS;
        assertThat(help).contains("Optimizer steps (default: " + d.steps() + ")", "Sequences per step (default: " + d.batch() + ")",
                "(default: " + d.evalEvery() + ")", "default: " + d.evalBatches() + ")", "(default: " + d.checkpointEvery() + ")",
                "(default: " + d.warmup() + ",", "(default: " + d.keepCheckpoints() + ")", "(default: " + d.seed() + ")",
                "(default: " + d.minLrRatio() + ")", "(default: " + d.weightDecay() + ")", "(default: " + d.beta1() + ")",
                "(default: " + d.beta2() + ")", "(default: " + d.gradClip() + ")", "(default: " + d.auxAlpha() + ")",
                "(default: " + d.zLoss() + ")", "(default: " + d.biasGamma() + ")");
        assertThat(help).contains("Peak learning rate (default: 3e-3)");
        assertThat(d.lr()).isEqualTo(3e-3);
    }

    @Test
    void badEnumValuesAreUsageErrors() {
        assertThat(run("train", "--router", "argmax").code()).isEqualTo(2);
        assertThat(run("train", "--balance", "loss").code()).isEqualTo(2);
        assertThat(run("train", "--schedule", "linear").code()).isEqualTo(2);
    }

    @Test
    void anUnwritableOutIsRefused() throws IOException {
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        Run r = run("train", "--out", file.resolve("run").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.firstLine()).contains("--out").contains("not writable");
    }

    @Test
    void anExistingRunIsNeverOverwrittenByAFreshOne() throws IOException {
        Path run = tmp.resolve("run");
        Files.createDirectories(run);
        Files.writeString(run.resolve("metrics.jsonl"), "{\"step\":1}\n");
        Run r = run("train", "--out", run.toString(), "--steps", "10");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.firstLine()).contains("already holds a run").contains("--resume");
        assertThat(Files.readString(run.resolve("metrics.jsonl"))).isEqualTo("{\"step\":1}\n");
    }

    @Test
    void resumeRefusesMissingCorruptAndMismatchedCheckpointsAndLeavesTheRunAlone() throws IOException {
        assertThat(run("train", "--resume", tmp.resolve("nothing").toString()).firstLine()).contains("nothing");

        Path run = tmp.resolve("run");
        Path step = Checkpoint.stepDir(run, 5);
        Files.createDirectories(step.getParent());
        CheckpointTestSupport.save(step, 5);
        Files.writeString(run.resolve("metrics.jsonl"), "{\"step\":5}\n");
        Map<String, String> before = snapshot(run);

        Run r = run("train", "--resume", run.toString(), "--dim", "64");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.firstLine()).contains(step.resolve("config.json").toString()).contains("dim is 8 but --dim says 64");

        r = run("train", "--resume", run.toString(), "--lr", "0.1");
        assertThat(r.firstLine()).contains(step.resolve("trainer.json").toString()).contains("lr is 0.003 but 0.1");

        r = run("train", "--resume", run.toString(), "--preset", "mixtral");
        assertThat(r.firstLine()).contains("--preset");

        r = run("train", "--resume", run.toString()); // the saved data digest is not the bundled corpus's
        assertThat(r.firstLine()).contains("trainer.json").contains("data.sha256");

        Path other = tmp.resolve("other");
        Files.createDirectories(other);
        Files.writeString(other.resolve("metrics.jsonl"), "");
        r = run("train", "--resume", step.toString(), "--out", other.toString());
        assertThat(r.firstLine()).contains("already holds a run");
        assertThat(snapshot(run)).isEqualTo(before);

        Files.delete(step.resolve("tokenizer.json"));
        r = run("train", "--resume", run.toString());
        assertThat(r.firstLine()).contains("tokenizer.json").contains("missing");
        assertThat(Files.exists(step.resolve("config.json"))).isTrue();
    }

    /** Flags for a model small enough to train a few steps in a test. */
    static final String[] SMALL = {"--layers", "2", "--dim", "16", "--heads", "2", "--ctx", "16", "--experts", "4",
            "--expert-hidden", "16", "--batch", "2", "--eval-batches", "1", "--threads", "1"};

    static String[] args(String[] head, String... tail) {
        String[] all = java.util.Arrays.copyOf(head, head.length + SMALL.length + tail.length);
        System.arraycopy(SMALL, 0, all, head.length, SMALL.length);
        System.arraycopy(tail, 0, all, head.length + SMALL.length, tail.length);
        return all;
    }

    @Test
    void aSmallRunWithABpeTokenizerWritesItsFolderAndEndsWithASample() throws IOException {
        Path text = Files.writeString(tmp.resolve("text.txt"), ai.behemoth.data.BundledCorpus.shakespeare().substring(0, 30_000));
        Path out = tmp.resolve("run");
        Run r = run(args(new String[]{"train", "--data", text.toString(), "--tokenizer", "bpe:300", "--out", out.toString()},
                "--steps", "4", "--checkpoint-every", "2", "--keep-checkpoints", "1"));
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("run folder " + out).contains("step 4/4").contains("bits/byte");
        assertThat(r.out()).startsWith("--- sample (200 tokens");
        assertThat(Files.readAllLines(out.resolve("metrics.jsonl"))).hasSize(1 + 4 + 1); // config, steps, summary
        assertThat(Checkpoint.checkpointsOf(out.resolve("checkpoints"))).containsExactly(Checkpoint.stepDir(out, 2));
        Checkpoint.Loaded fin = Checkpoint.read(out.resolve("final"));
        assertThat(fin.config().vocabSize()).isEqualTo(300);
        assertThat(ai.behemoth.tokenizer.Tokenizers.load(out.resolve("final").toString()).vocabSize()).isEqualTo(300);

        Map<String, String> before = snapshot(out);
        r = run("train", "--resume", out.toString());
        assertThat(r.code()).isZero();
        assertThat(r.err()).contains("nothing to do");
        assertThat(snapshot(out)).isEqualTo(before);

        r = run("train", "--resume", Checkpoint.stepDir(out, 2).toString(), "--out", tmp.resolve("branch").toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(Files.readAllLines(tmp.resolve("branch/metrics.jsonl"))).hasSize(1 + 4 + 1);
    }

    @Test
    void benchTrainReportsSpeedAndAllocation() {
        Run r = run("bench", "train", "--layers", "1", "--dim", "32", "--heads", "2", "--ctx", "16", "--experts", "2", "--top-k", "1",
                "--expert-hidden", "32", "--batch", "2", "--steps", "2", "--warmup-steps", "0", "--threads", "1");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("0 warmup + 2 timed steps", "tokens/s")
                .containsPattern("allocated   [0-9.]+ KB per step \\(all threads, timed steps\\)");
    }

    @Test
    void benchTrainValidatesItsFlagsToo() {
        Run r = run("bench", "train", "--experts", "4", "--top-k", "5");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.firstLine()).contains("--top-k 5 is above --experts 4");
        assertThat(run("bench", "train", "--help").code()).isZero();
    }
}
