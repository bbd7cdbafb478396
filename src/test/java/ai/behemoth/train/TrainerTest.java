package ai.behemoth.train;

import ai.behemoth.data.BundledCorpus;
import ai.behemoth.data.TrainingData;
import ai.behemoth.model.ModelConfig;
import ai.behemoth.tokenizer.ByteTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The loop end to end on a tiny model: it learns, and a run stopped and resumed is bit-identical to one that was not. */
class TrainerTest {
    @TempDir
    Path tmp;

    static final TrainingData DATA = TrainingData.fromText(BundledCorpus.shakespeare().substring(0, 24_000), new ByteTokenizer());

    /** Two layers (one MoE of four experts top-2 after a dense one), width 16, context 16. */
    static ModelConfig config() {
        ModelConfig.Builder b = CheckpointTestSupport.config().toBuilder();
        b.dim = 16; b.heads = 2; b.kvHeads = 1; b.headDim = 8; b.layers = 2; b.experts = 4; b.topK = 2;
        b.expertHidden = 16; b.ffnHidden = 32; b.moeEvery = 2; b.context = 16;
        return b.build();
    }

    static TrainOptions options(TrainOptions.BalanceMode balance) {
        TrainOptions.Builder b = TrainOptions.DEFAULTS.toBuilder();
        b.steps = 12; b.batch = 4; b.warmup = 2; b.lr = 1e-2; b.evalEvery = 4; b.evalBatches = 2;
        b.checkpointEvery = 5; b.keepCheckpoints = 2; b.threads = 1; b.balance = balance; b.seed = 7;
        return b.build();
    }

    /** The step records without their timing, and the config event: everything a resumed run must reproduce. */
    static List<String> withoutTiming(Path metrics) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(metrics)) {
            ObjectNode node = (ObjectNode) json.readTree(line);
            if (node.path("event").asText().equals(Metrics.SUMMARY)) continue;
            node.remove("tokens_per_s");
            out.add(node.toString());
        }
        return out;
    }

    @Test
    void aRunStoppedAndResumedMatchesAnUninterruptedOneBitForBit() throws IOException {
        TrainOptions o = options(TrainOptions.BalanceMode.AUX_FREE);
        Path whole = tmp.resolve("whole"), broken = tmp.resolve("broken");
        new Trainer(config(), o, new ByteTokenizer(), DATA, whole, null).run(null);

        class Crash extends RuntimeException {}
        assertThatThrownBy(() -> new Trainer(config(), o, new ByteTokenizer(), DATA, broken, null).run(s -> {
            if (s.step() == 8) throw new Crash();
        })).isInstanceOf(Crash.class);
        assertThat(Files.readAllLines(broken.resolve(Metrics.FILE))).hasSize(1 + 8); // config and steps 1..8

        Path latest = Checkpoint.resolve(broken);
        assertThat(latest).isEqualTo(Checkpoint.stepDir(broken, 5));
        Checkpoint.Loaded loaded = Checkpoint.read(latest);
        assertThat(loaded.state().routerBias()[0]).isNotEqualTo(new float[4]); // aux-free biases moved and were saved
        new Trainer(config(), o, new ByteTokenizer(), DATA, broken, loaded).run(null);

        List<String> expected = withoutTiming(whole.resolve(Metrics.FILE));
        assertThat(expected).hasSize(1 + 12);
        assertThat(expected.getFirst()).contains("\"event\":\"config\"");
        assertThat(Files.readAllLines(broken.resolve(Metrics.FILE)).getLast()).contains("\"event\":\"summary\"", "\"resumed_from\":5");
        assertThat(withoutTiming(broken.resolve(Metrics.FILE))).isEqualTo(expected);
        for (String f : List.of(Checkpoint.MODEL, Checkpoint.OPTIMIZER, Checkpoint.TRAINER))
            assertThat(Files.readAllBytes(broken.resolve("final").resolve(f))).as(f)
                    .isEqualTo(Files.readAllBytes(whole.resolve("final").resolve(f)));
        assertThat(Checkpoint.checkpointsOf(whole.resolve("checkpoints")))
                .containsExactly(Checkpoint.stepDir(whole, 5), Checkpoint.stepDir(whole, 10));
    }

    @Test
    void evaluatingDoesNotChangeTheTrainingTrajectory() throws IOException {
        TrainOptions.Builder b = options(TrainOptions.BalanceMode.AUX).toBuilder();
        b.steps = 6; b.checkpointEvery = 0;
        b.evalEvery = 1;
        Trainer.Result often = new Trainer(config(), b.build(), new ByteTokenizer(), DATA, tmp.resolve("often"), null).run(null);
        b.evalEvery = 0;
        Trainer.Result never = new Trainer(config(), b.build(), new ByteTokenizer(), DATA, tmp.resolve("never"), null).run(null);
        assertThat(never.model().params()).isEqualTo(often.model().params());
        assertThat(never.last().valLoss()).isEqualTo(often.last().valLoss());
    }

    @Test
    void lossFallsAndEveryLineCarriesTheRouterFigures() throws IOException {
        TrainOptions.Builder b = options(TrainOptions.BalanceMode.AUX).toBuilder();
        b.steps = 30; b.evalEvery = 0; b.checkpointEvery = 0;
        Path run = tmp.resolve("run");
        List<Metrics.Step> steps = new ArrayList<>();
        Trainer.Result result = new Trainer(config(), b.build(), new ByteTokenizer(), DATA, run, null).run(steps::add);
        assertThat(steps).hasSize(30);
        assertThat(steps.getFirst().trainLoss()).isCloseTo(Math.log(256), org.assertj.core.api.Assertions.within(0.3));
        assertThat(result.last().valLoss()).isLessThan(steps.getFirst().trainLoss() - 1.0);
        assertThat(result.last().valBpb()).isEqualTo(result.last().valLoss() * DATA.val().length / DATA.valBytes() / Math.log(2));
        for (Metrics.Step s : steps) {
            assertThat(s.experts()).hasSize(1);
            assertThat(s.experts().getFirst().layer()).isEqualTo(1);
            assertThat(s.lr()).isEqualTo(b.build().lrSchedule().at(s.step()));
        }
        assertThat(Checkpoint.read(run.resolve("final")).state().step()).isEqualTo(30);
        var log = ai.behemoth.report.MetricsLog.read(run.resolve(Metrics.FILE)); // what behemoth report reads
        assertThat(log.steps()).hasSize(30);
        assertThat(log.steps().getLast().valBpb()).isEqualTo(result.last().valBpb());
        assertThat(log.config()).isNotNull();
        assertThat(log.summary().get("val_bpb").asDouble()).isEqualTo(result.last().valBpb());
        int[] sample = TextSample.continueTokens(result.model(), new ByteTokenizer().encode("ROMEO:"), 20, 0.8, 1);
        assertThat(sample).hasSize(20);
        for (int t : sample) assertThat(t).isBetween(0, 255);
        assertThat(TextSample.continueTokens(result.model(), new ByteTokenizer().encode("ROMEO:"), 20, 0.8, 1)).isEqualTo(sample);
    }
}
