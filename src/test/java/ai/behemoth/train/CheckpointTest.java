package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CheckpointTest {
    @TempDir
    Path tmp;

    static CheckpointTestSupport.Saved save(Path dir, int step) throws IOException {
        return CheckpointTestSupport.save(dir, step);
    }

    @Test
    void writeThenReadGivesBackEveryValue() throws IOException {
        Path dir = tmp.resolve("run/checkpoints/step-7");
        Files.createDirectories(dir.getParent());
        var s = save(dir, 7);
        Checkpoint.Loaded l = Checkpoint.read(dir);
        assertThat(l.config()).isEqualTo(s.config());
        assertThat(l.params()).isEqualTo(s.params());
        assertThat(l.m()).isEqualTo(s.m());
        assertThat(l.v()).isEqualTo(s.v());
        assertThat(l.state().step()).isEqualTo(7);
        assertThat(l.state().options()).isEqualTo(s.state().options());
        assertThat(l.state().routerBias()).isDeepEqualTo(s.state().routerBias());
        assertThat(l.state().data()).isEqualTo(s.state().data());
        assertThat(l.runDir()).isEqualTo(tmp.resolve("run").toAbsolutePath());
        try (var files = Files.list(dir.getParent())) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("step-7"); // no temporary left
        }
        var again = save(dir, 7); // replacing a checkpoint of the same name
        assertThat(Checkpoint.read(dir).params()).isEqualTo(again.params());
    }

    @Test
    void aRunFolderResolvesToFinalOrElseItsHighestStepAndOldStepsArePruned() throws IOException {
        Path run = tmp.resolve("run");
        for (int step : new int[]{5, 10, 20, 15}) {
            Files.createDirectories(run.resolve("checkpoints"));
            save(Checkpoint.stepDir(run, step), step);
        }
        assertThat(Checkpoint.resolve(run)).isEqualTo(Checkpoint.stepDir(run, 20));
        assertThat(Checkpoint.resolve(Checkpoint.stepDir(run, 10))).isEqualTo(Checkpoint.stepDir(run, 10));
        Checkpoint.keepLast(run.resolve("checkpoints"), 2);
        assertThat(Checkpoint.checkpointsOf(run.resolve("checkpoints")))
                .containsExactly(Checkpoint.stepDir(run, 15), Checkpoint.stepDir(run, 20));
        save(run.resolve("final"), 25);
        assertThat(Checkpoint.resolve(run)).isEqualTo(run.resolve("final"));
        assertThatThrownBy(() -> Checkpoint.resolve(tmp)).hasMessageContaining("no checkpoints/step-N");
    }

    @Test
    void aMissingFileIsNamed() throws IOException {
        Path dir = tmp.resolve("c");
        save(dir, 3);
        Files.delete(dir.resolve(Checkpoint.OPTIMIZER));
        assertThatThrownBy(() -> Checkpoint.read(dir)).hasMessageContaining("optimizer.safetensors").hasMessageContaining("missing");
    }

    @Test
    void aTruncatedTensorFileIsNamed() throws IOException {
        Path dir = tmp.resolve("c");
        save(dir, 3);
        Path model = dir.resolve(Checkpoint.MODEL);
        byte[] bytes = Files.readAllBytes(model);
        Files.write(model, java.util.Arrays.copyOf(bytes, bytes.length - 100));
        assertThatThrownBy(() -> Checkpoint.read(dir)).hasMessageContaining("model.safetensors");
    }

    @Test
    void aConfigThatDoesNotFitTheTensorsIsNamedWithTheTensor() throws IOException {
        Path dir = tmp.resolve("c");
        save(dir, 3);
        ModelConfig.Builder b = CheckpointTestSupport.config().toBuilder();
        b.expertHidden = 7;
        Files.writeString(dir.resolve(Checkpoint.CONFIG), b.build().toJson());
        assertThatThrownBy(() -> Checkpoint.read(dir))
                .hasMessageContaining("model.safetensors").hasMessageContaining("experts.w1").hasMessageContaining("[3, 7, 8]");
    }

    @Test
    void aBrokenTrainerJsonIsNamedWithTheField() throws IOException {
        Path dir = tmp.resolve("c");
        save(dir, 3);
        Path trainer = dir.resolve(Checkpoint.TRAINER);
        String json = Files.readString(trainer);
        Files.writeString(trainer, json.replace("\"step\" : 3,", ""));
        assertThatThrownBy(() -> Checkpoint.read(dir)).hasMessageContaining("trainer.json").hasMessageContaining("step");
        Files.writeString(trainer, json.replace("\"next_step\" : 4", "\"next_step\" : 9"));
        assertThatThrownBy(() -> Checkpoint.read(dir)).hasMessageContaining("trainer.json").hasMessageContaining("next_step");
        Files.writeString(trainer, json.substring(0, json.length() / 2));
        assertThatThrownBy(() -> Checkpoint.read(dir)).hasMessageContaining("trainer.json").hasMessageContaining("corrupt");
        Files.writeString(trainer, json.replace("\"lr\" : 0.003", "\"lr\" : -1"));
        assertThatThrownBy(() -> Checkpoint.read(dir)).hasMessageContaining("trainer.json").hasMessageContaining("--lr");
        Files.writeString(trainer, json.replace("[ 0.0, 0.0, 3.5 ]", "[ 0.0, 3.5 ]"));
        assertThatThrownBy(() -> Checkpoint.read(dir)).hasMessageContaining("trainer.json").hasMessageContaining("router_bias");
        Files.writeString(trainer, json);
        assertThat(Checkpoint.read(dir).state().step()).isEqualTo(3);
    }

    @Test
    void trajectoryOptionsMustMatchWhileBookkeepingMayChange() {
        TrainOptions o = TrainOptions.DEFAULTS;
        TrainOptions.Builder b = o.toBuilder();
        b.threads = 1; b.evalEvery = 7; b.checkpointEvery = 3; b.keepCheckpoints = 9;
        assertThat(o.trajectoryMismatch(b.build())).isNull();
        b.lr = 1e-4;
        assertThat(o.trajectoryMismatch(b.build())).contains("lr").contains("1.0E-4");
        assertThat(List.copyOf(TrainOptions.TRAJECTORY)).allSatisfy(f -> assertThat(o.asMap()).containsKey(f));
    }
}
