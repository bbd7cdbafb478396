package ai.behemoth.train;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.tokenizer.ByteTokenizer;
import ai.behemoth.model.Presets;

import java.io.IOException;
import java.nio.file.Path;

/** Writes small, valid checkpoints of random values for the checkpoint and command tests. */
public final class CheckpointTestSupport {
    private CheckpointTestSupport() {}

    public record Saved(ModelConfig config, float[] params, float[] m, float[] v, Checkpoint.TrainerState state) {}

    /** Two layers of width 8, three experts top-2, byte vocabulary. */
    public static ModelConfig config() {
        ModelConfig.Builder b = Presets.get("tiny", 256).toBuilder();
        b.dim = 8; b.heads = 2; b.kvHeads = 2; b.headDim = 4; b.layers = 2; b.experts = 3; b.topK = 2;
        b.expertHidden = 6; b.context = 8;
        return b.build();
    }

    /** A checkpoint at {@code step} of a run with the default options, values seeded by the step. */
    public static Saved save(Path dir, int step) throws IOException {
        ModelConfig c = config();
        ParameterLayout layout = new ParameterLayout(c);
        float[] p = AdamWTest.random(layout.size(), step, 1), m = AdamWTest.random(layout.size(), step + 1, 1e-3),
                v = AdamWTest.random(layout.size(), step + 2, 1e-6);
        TrainOptions o = TrainOptions.DEFAULTS;
        Checkpoint.TrainerState state = new Checkpoint.TrainerState(Checkpoint.FORMAT, "test", step, o.seed(), o,
                new float[][]{{0.1f, -0.2f, 1e-7f}, {0, 0, 3.5f}},
                new Checkpoint.DataState(Batches.SAMPLER, o.seed(), step + 1, 0, 100, 10, 100, 10, "ab"),
                new Guard(GuardOptions.DEFAULTS).state());
        Checkpoint.write(dir, c, layout, new ByteTokenizer(), p, m, v, state);
        return new Saved(c, p, m, v, state);
    }
}
