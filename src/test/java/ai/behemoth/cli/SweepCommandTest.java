package ai.behemoth.cli;

import ai.behemoth.sweep.RunRegistry;
import ai.behemoth.train.Checkpoint;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static ai.behemoth.cli.MainTest.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** A two-variant sweep end to end: the registry, skipping finished runs, resuming an interrupted one, the table and the plot. */
class SweepCommandTest {
    @TempDir
    Path tmp;

    static final ObjectMapper JSON = new ObjectMapper();

    Path spec(ObjectNode grid) throws IOException {
        Path text = Files.writeString(tmp.resolve("text.txt"), ai.behemoth.data.BundledCorpus.shakespeare().substring(0, 20_000));
        ObjectNode spec = JSON.createObjectNode().put("name", "lr");
        ObjectNode base = spec.putObject("base");
        String[] small = TrainCommandTest.SMALL;
        for (int i = 0; i < small.length; i += 2) base.put(small[i].substring(2), small[i + 1]);
        base.put("data", text.toString()).put("steps", 4).put("checkpoint-every", 2).put("eval-every", 2)
                .put("peak-gflops", 100).put("price-hour", 3.6).put("seed", 3);
        spec.set("grid", grid);
        Path file = tmp.resolve("sweep.json");
        JSON.writeValue(file.toFile(), spec);
        return file;
    }

    @Test
    void runsEachVariantRecordsItSkipsFinishedAndResumesInterrupted() throws IOException {
        ObjectNode grid = JSON.createObjectNode();
        grid.putArray("lr").add(0.01).add(0.003);
        Path spec = spec(grid);
        Path root = tmp.resolve("runs");
        MainTest.Run r = run("sweep", spec.toString(), "--root", root.toString());
        assertThat(r.code()).as(r.err()).isZero();

        List<RunRegistry.Entry> entries = RunRegistry.read(root);
        assertThat(entries).extracting(RunRegistry.Entry::id).containsExactly("lr/lr-0.01", "lr/lr-0.003");
        Path a = root.resolve("lr/lr-0.01"), b = root.resolve("lr/lr-0.003");
        for (RunRegistry.Entry e : entries) {
            assertThat(e.status()).isEqualTo(RunRegistry.FINISHED);
            assertThat(e.step()).isEqualTo(4);
            assertThat(e.valLoss()).isFinite().isLessThan(Math.log(256));
            Path dir = root.resolve(e.folder());
            var summary = JSON.readTree(Files.readAllLines(dir.resolve("metrics.jsonl")).getLast());
            // 4 steps of 2 sequences of 16 tokens
            assertThat(e.flops()).isEqualTo(summary.get("flops_per_token").asDouble() * 4 * 2 * 16);
            assertThat(e.cost()).isCloseTo(summary.get("seconds").asDouble() / 3600 * 3.6, within(1e-9));
            assertThat(summary.get("mfu").asDouble()).isPositive();
            assertThat(dir.resolve("report.html")).isRegularFile();
        }
        assertThat(entries.get(0).diff()).isEqualTo(Map.of("lr", 0.01));
        assertThat(Checkpoint.read(a.resolve("final")).state().options().lr()).isEqualTo(0.01);
        assertThat(Checkpoint.read(b.resolve("final")).state().options().lr()).isEqualTo(0.003);

        // Interrupt b after its step-2 checkpoint: rerunning leaves a alone and resumes b.
        byte[] aModel = Files.readAllBytes(a.resolve("final").resolve(Checkpoint.MODEL));
        byte[] bModel = Files.readAllBytes(b.resolve("final").resolve(Checkpoint.MODEL));
        long aTime = Files.getLastModifiedTime(a.resolve("final").resolve(Checkpoint.MODEL)).toMillis();
        ai.behemoth.train.CheckpointTestAccess.deleteTree(b.resolve("final"));
        r = run("sweep", spec.toString(), "--root", root.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.err()).contains("lr/lr-0.01: finished, skipped").contains("lr/lr-0.003: resuming from");
        assertThat(Files.getLastModifiedTime(a.resolve("final").resolve(Checkpoint.MODEL)).toMillis()).isEqualTo(aTime);
        assertThat(Files.readAllBytes(a.resolve("final").resolve(Checkpoint.MODEL))).isEqualTo(aModel);
        assertThat(Files.readAllLines(b.resolve("metrics.jsonl")).getLast()).contains("\"resumed_from\":2");
        assertThat(Files.readAllBytes(b.resolve("final").resolve(Checkpoint.MODEL))).as("resume is exact").isEqualTo(bModel);
        assertThat(RunRegistry.read(root)).hasSize(2).allSatisfy(e -> assertThat(e.status()).isEqualTo(RunRegistry.FINISHED));

        r = run("runs", "--root", root.toString(), "--sort", "val_loss");
        assertThat(r.code()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines).hasSize(3);
        RunRegistry.Entry best = entries.get(0).valLoss() < entries.get(1).valLoss() ? entries.get(0) : entries.get(1);
        assertThat(lines.get(1)).startsWith(best.id()).contains("finished").contains("lr=");
        assertThat(run("runs", "--root", root.toString(), "--sort", "speed").firstLine()).contains("--sort speed");

        Path png = tmp.resolve("compute.png");
        r = run("runs", "--root", root.toString(), "plot", "--out", png.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("(2 runs)");
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(900);
    }

    @Test
    void aSpecWithAnUnknownFlagIsRefusedBeforeAnyRun() throws IOException {
        ObjectNode grid = JSON.createObjectNode();
        ArrayNode speeds = grid.putArray("warp-speed");
        speeds.add(1).add(2);
        Path root = tmp.resolve("runs");
        MainTest.Run r = run("sweep", spec(grid).toString(), "--root", root.toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.firstLine()).contains("sweep.json").contains("warp-speed").contains("not a flag");
        assertThat(root).doesNotExist();

        Path both = Files.writeString(tmp.resolve("both.json"), "{\"grid\": {\"lr\": [1]}, \"variants\": [{}]}");
        assertThat(run("sweep", both.toString()).firstLine()).contains("both.json").contains("not both");
    }
}
