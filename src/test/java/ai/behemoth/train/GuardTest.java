package ai.behemoth.train;

import ai.behemoth.report.MetricsLog;
import ai.behemoth.report.RunEvent;
import ai.behemoth.tokenizer.ByteTokenizer;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The stability guard against injected faults: a NaN batch, a huge-loss batch, an exploding learning rate. */
class GuardTest {
    @TempDir
    Path tmp;

    static final int STEPS = 40;
    static final GuardOptions GUARD = new GuardOptions(true, 8, 5, 8, 3, 10, 0.5);

    static TrainOptions options() {
        TrainOptions.Builder b = TrainOptions.DEFAULTS.toBuilder();
        b.steps = STEPS; b.batch = 4; b.warmup = 2; b.lr = 1e-2; b.evalEvery = 0; b.evalBatches = 2;
        b.checkpointEvery = 10; b.keepCheckpoints = 5; b.threads = 1; b.seed = 7;
        b.balance = TrainOptions.BalanceMode.AUX_FREE;
        return b.build();
    }

    Trainer trainer(Path run, Checkpoint.Loaded resume) {
        return new Trainer(TrainerTest.config(), options(), new ByteTokenizer(), TrainerTest.DATA, run, resume).guard(GUARD);
    }

    /** Data step 22 trains at 100 000 times the learning rate: the update wrecks the parameters. */
    static final Faults EXPLODING_LR = new Faults() {
        @Override
        public double lr(int dataStep, double lr) {
            return dataStep == 22 ? lr * 1e5 : lr;
        }
    };

    @Test
    void judgesSpikesByZScoreOverAFullWindowOfGoodSteps() {
        Guard g = new Guard(new GuardOptions(true, 4, 3, 3, 2, 5, 0.5));
        for (double loss : new double[]{1.0, 1.1, 0.9}) {
            assertThat(g.judge(loss * 100, 1)).as("window not yet full").isNull();
            g.good(loss, 1);
        }
        g.good(1.0, 1);
        // mean 1.0, sample std sqrt(0.02/3) = 0.0816: 1.3 is 3.67 standard deviations up
        Guard.Verdict v = g.judge(1.3, 1);
        assertThat(v.reason()).isEqualTo(Guard.LOSS_SPIKE);
        assertThat(v.zscore()).isCloseTo(0.3 / Math.sqrt(0.02 / 3), within(1e-9));
        assertThat(g.judge(1.2, 1)).as("2.45 standard deviations").isNull();
        assertThat(g.judge(0.5, 1)).as("a fall is no spike").isNull();
        assertThat(g.judge(1.0, 1.7)).as("the std of a constant window of norms counts as 25% of its mean").isNull();
        assertThat(g.judge(1.0, 1.8).reason()).isEqualTo(Guard.GRAD_SPIKE);
        assertThat(g.judge(Double.NaN, 1).reason()).isEqualTo(Guard.NONFINITE_LOSS);
        assertThat(g.judge(1.0, Double.POSITIVE_INFINITY).reason()).isEqualTo(Guard.NONFINITE_GRAD);
        assertThat(g.bad(10)).isFalse();
        assertThat(g.bad(16)).as("step 10 has left the window of 5").isFalse();
        assertThat(g.bad(17)).isTrue();
        assertThat(new Guard(GUARD.withEnabled(false)).judge(Double.NaN, Double.NaN)).isNull();
    }

    @Test
    void aNanBatchIsSkippedLeavingParametersMomentsAndBiasesUntouched() throws IOException {
        float[][] seen = new float[4][];
        Faults nan = new Faults() {
            @Override
            public double afterBackward(int dataStep, double loss, Transformer model, AdamW adam) {
                if (dataStep == 20 || dataStep == 21) {
                    int at = (dataStep - 20) * 2;
                    seen[at] = model.params().clone();
                    seen[at + 1] = concat(adam.m(), adam.v(), model.routerBias()[0]);
                }
                if (dataStep != 20) return loss;
                Arrays.fill(model.grads(), Float.NaN);
                return Double.NaN;
            }
        };
        Path run = tmp.resolve("nan");
        Trainer.Result result = trainer(run, null).faults(nan).run(null);
        assertThat(seen[2]).isEqualTo(seen[0]);
        assertThat(seen[3]).isEqualTo(seen[1]);

        MetricsLog log = MetricsLog.read(run.resolve(Metrics.FILE));
        List<RunEvent> events = guardEvents(log);
        assertThat(events).hasSize(1);
        assertThat(events.getFirst().kind()).isEqualTo(RunEvent.SKIP);
        assertThat(events.getFirst().step()).isEqualTo(20);
        assertThat(events.getFirst().reason()).isEqualTo(Guard.NONFINITE_LOSS);
        assertThat(log.summary().get("skips").asInt()).isEqualTo(1);
        assertThat(log.summary().get("rollbacks").asInt()).isZero();
        assertThat(result.last().valLoss()).isFinite().isLessThan(Math.log(256) - 1);
    }

    @Test
    void aHugeLossBatchIsASpikeAndIsSkipped() throws IOException {
        Faults huge = new Faults() {
            @Override
            public double afterBackward(int dataStep, double loss, Transformer model, AdamW adam) {
                if (dataStep != 25) return loss;
                float[] g = model.grads();
                for (int i = 0; i < g.length; i++) g[i] *= 1000;
                return loss * 20;
            }
        };
        Path run = tmp.resolve("huge");
        Trainer.Result result = trainer(run, null).faults(huge).run(null);
        List<RunEvent> events = guardEvents(MetricsLog.read(run.resolve(Metrics.FILE)));
        assertThat(events).extracting(RunEvent::kind).containsExactly(RunEvent.SPIKE, RunEvent.SKIP);
        assertThat(events).allSatisfy(e -> {
            assertThat(e.step()).isEqualTo(25);
            assertThat(e.reason()).isEqualTo(Guard.LOSS_SPIKE);
        });
        assertThat(events.getFirst().fields().get("zscore").asDouble()).isGreaterThan(GUARD.lossZ());
        assertThat(result.last().valLoss()).isFinite().isLessThan(Math.log(256) - 1);
    }

    @Test
    void anExplodingLearningRateRollsBackSkipsTheDataAndLowersTheRate() throws IOException {
        Trainer.Result clean = trainer(tmp.resolve("clean"), null).run(null);
        assertThat(guardEvents(MetricsLog.read(tmp.resolve("clean").resolve(Metrics.FILE)))).as("no false alarms").isEmpty();

        Path run = tmp.resolve("exploding");
        Trainer.Result result = trainer(run, null).faults(EXPLODING_LR).run(null);
        MetricsLog log = MetricsLog.read(run.resolve(Metrics.FILE));
        List<RunEvent> events = guardEvents(log);
        RunEvent rollback = events.stream().filter(e -> e.kind().equals(RunEvent.ROLLBACK)).findFirst().orElseThrow();
        assertThat(events.stream().filter(e -> e.kind().equals(RunEvent.SKIP)).map(RunEvent::step).toList())
                .containsExactly(23L, 24L, 25L);
        assertThat(rollback.step()).isEqualTo(25);
        assertThat(rollback.toStep()).isEqualTo(20); // the last checkpoint before the fault
        assertThat(rollback.fields().get("skip_data").toString()).isEqualTo("[21,25]");
        assertThat(rollback.fields().get("lr_scale").asDouble()).isEqualTo(0.5);
        assertThat(log.abandoned()).extracting(r -> r.step()).containsExactly(21L, 22L, 23L, 24L, 25L);
        assertThat(log.steps()).hasSize(STEPS);
        assertThat(log.steps().getLast().lr()).isEqualTo(0.5 * options().lrSchedule().at(STEPS));
        Checkpoint.Loaded fin = Checkpoint.read(run.resolve("final"));
        assertThat(fin.state().data().stepOffset()).isEqualTo(5);
        assertThat(fin.state().guard().lrScale()).isEqualTo(0.5);
        assertThat(result.last().valLoss()).isFinite().isCloseTo(clean.last().valLoss(), within(0.3));

        // Without the guard the same fault leaves the model wrecked: the test above can fail.
        Trainer.Result unguarded = new Trainer(TrainerTest.config(), options(), new ByteTokenizer(), TrainerTest.DATA,
                tmp.resolve("unguarded"), null).guard(GUARD.withEnabled(false)).faults(EXPLODING_LR).run(null);
        assertThat(unguarded.last().valLoss()).satisfiesAnyOf(v -> assertThat(v).isNaN(),
                v -> assertThat(v).isGreaterThan(clean.last().valLoss() + 1));
    }

    @Test
    void aRunResumedAfterARollbackContinuesBitForBit() throws IOException {
        Path whole = tmp.resolve("whole"), broken = tmp.resolve("broken");
        trainer(whole, null).faults(EXPLODING_LR).run(null);
        class Crash extends RuntimeException {}
        assertThatThrownBy(() -> trainer(broken, null).faults(EXPLODING_LR).run(s -> {
            if (s.step() == 33) throw new Crash();
        })).isInstanceOf(Crash.class);
        Checkpoint.Loaded loaded = Checkpoint.read(Checkpoint.stepDir(broken, 30));
        assertThat(loaded.state().data().stepOffset()).isEqualTo(5);
        trainer(broken, loaded).faults(EXPLODING_LR).run(null);

        assertThat(TrainerTest.withoutTiming(broken.resolve(Metrics.FILE)))
                .isEqualTo(TrainerTest.withoutTiming(whole.resolve(Metrics.FILE)));
        for (String f : List.of(Checkpoint.MODEL, Checkpoint.OPTIMIZER, Checkpoint.TRAINER))
            assertThat(Files.readAllBytes(broken.resolve("final").resolve(f))).as(f)
                    .isEqualTo(Files.readAllBytes(whole.resolve("final").resolve(f)));
        Map<?, ?> trainer = new ObjectMapper().readValue(whole.resolve("final").resolve(Checkpoint.TRAINER).toFile(), Map.class);
        assertThat(((Map<?, ?>) trainer.get("data")).get("step_offset")).isEqualTo(5);
    }

    static List<RunEvent> guardEvents(MetricsLog log) {
        return log.events().stream().filter(e -> !e.kind().equals(RunEvent.CONFIG) && !e.kind().equals(RunEvent.SUMMARY)).toList();
    }

    static float[] concat(float[]... parts) {
        int n = 0;
        for (float[] p : parts) n += p.length;
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
