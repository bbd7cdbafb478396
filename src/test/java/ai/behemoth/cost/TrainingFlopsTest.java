package ai.behemoth.cost;

import ai.behemoth.model.ModelConfig;
import ai.behemoth.model.Presets;
import ai.behemoth.train.ParameterLayout;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TrainingFlopsTest {
    /**
     * The independent count: walk the training parameter layout, keep the matrices (two or more
     * dimensions) except the input embedding, scale stacked expert tensors to the top-k share, and
     * add the output head again when it is tied to the embedding (its product still runs).
     */
    private static long fromLayout(ModelConfig c) {
        long n = 0;
        for (ParameterLayout.Entry e : new ParameterLayout(c).entries()) {
            if (e.shape().length < 2 || e.name().equals("tok_embeddings.weight")) continue;
            n += e.name().contains(".experts.") ? (long) e.size() / c.experts() * c.topK() : e.size();
        }
        if (c.tiedEmbeddings()) n += (long) c.vocabSize() * c.dim();
        return n;
    }

    @Test
    void activeParamsAgreeWithTheParameterLayoutForEveryPreset() {
        for (String name : Presets.NAMES) {
            ModelConfig c = Presets.get(name, 256);
            assertThat(TrainingFlops.activeMatrixParams(c)).as(name).isEqualTo(fromLayout(c));
        }
    }

    @Test
    void tinyPresetByHand() {
        // tiny: D=128, 4 layers, 4x32 heads, 8 experts top-2 of hidden 256, vocabulary 256.
        // Per layer: attention 4 x 128 x 128 = 65,536; router 128 x 8 = 1,024; experts 2 x 3 x 128 x 256 = 196,608.
        // 4 x 263,168 + head 128 x 256 = 1,085,440 params; x6 = 6,512,640; attention 12 x 4 x 128 x 128 = 786,432.
        ModelConfig tiny = Presets.get("tiny", 256);
        assertThat(TrainingFlops.activeMatrixParams(tiny)).isEqualTo(1_085_440);
        assertThat(TrainingFlops.perToken(tiny, 128)).isEqualTo(6_512_640 + 786_432);
    }
}
